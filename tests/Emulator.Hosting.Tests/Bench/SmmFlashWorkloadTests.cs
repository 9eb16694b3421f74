using System.Text;
using Emulator.Core.Cpu;
using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Machine;
using Emulator.Hosting.Bench;

namespace Emulator.Hosting.Tests.Bench;

/// <summary>
/// The SMM path of the flash workload (<see cref="SmmFlashProgram"/>) is a real guest on the q35
/// board with SMM and secure flash: it relocates SMBASE into TSEG, locks SMRAM, proves from
/// outside SMM that TSEG and the vars chip are closed to it, and then writes the vars chip only
/// through SMIs. These runs check the chip ends as the workload's operation list says, that
/// every request was one SMI, that the one write tried from outside SMM was refused, and that
/// the program stops with its reason when the machine is not what it needs.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SmmFlashWorkloadTests
{
    /// <summary>Three blocks, two passes, 1,000 bytes per SMI: every pass ends with a short request.</summary>
    private static readonly FlashWorkload Workload = new(3 * FlashWorkload.BlockSize, 2, FlashGuestPath.Smm, 1000);

    private sealed class Run : IDisposable
    {
        private readonly List<byte> _com1 = [];

        public Run(FlashWorkload workload, byte[]? code = null, Func<MachineOptions, MachineOptions>? adjust = null)
        {
            var machine = FlashGuestBench.CreateMachine(workload, code ?? workload.BuildCodeImage(), workload.BuildVarsImage(), _com1.Add);
            if (adjust != null)
            {
                var options = adjust(machine.Options);
                machine.Dispose();
                machine = new PcMachine(options);
            }

            Machine = machine;
        }

        public PcMachine Machine { get; }

        public CfiFlash Vars => Machine.FlashChips[1];

        public string Console => Encoding.ASCII.GetString([.. _com1]);

        public StopReason RunFor(long instructions) => Machine.Cpu.Run(Machine.Cpu.InstructionCount + instructions);

        public void Dispose() => Machine.Dispose();
    }

    private static byte[] ExpectedVars(FlashWorkload workload)
    {
        var expected = workload.BuildVarsImage();
        foreach (var op in workload.Operations())
        {
            FlashWorkload.Apply(expected, op);
        }

        return expected;
    }

    [Fact]
    public void WritesTheVarsChipOnlyThroughSmisAndEndsWithTheExpectedImage()
    {
        using var run = new Run(Workload);

        Assert.Equal(StopReason.PowerOff, run.RunFor(10_000_000));

        Assert.Equal($"{FlashWorkload.StartMarker}\r\n{FlashWorkload.DoneMarker}\r\n", run.Console);
        Assert.Equal(ExpectedVars(Workload), run.Vars.Contents.ToArray());
        Assert.Equal(Workload.BuildFinalVarsImage(), run.Vars.Contents.ToArray());
        Assert.Equal(Workload.BytesProgrammed, run.Vars.BytesProgrammed);
        Assert.Equal(Workload.BlocksErased, run.Vars.BlocksErased);

        // Per pass 3 erase requests and ceil(12,288 / 1,000) = 13 program requests, plus the relocation SMI.
        Assert.Equal(2 * (3 + 13), Workload.Smis);
        Assert.Equal(Workload.Smis + 1, run.Machine.Cpu.SmmEntries);

        // Every accepted write came from SMM: 0x10 + data per byte, 0xFF per request, 0x20 + 0xD0 per block.
        long requests = 2 * 13;
        Assert.Equal((2 * Workload.BytesProgrammed) + requests + (2 * Workload.BlocksErased), run.Vars.SmmWrites);

        // The one OVMF byte program tried from outside SMM (0x10, 0x00 at the chip's start) was dropped.
        Assert.Equal(2, run.Vars.RejectedWrites);
        Assert.Equal(0, run.Machine.FlashChips[0].BytesProgrammed);
    }

    [Fact]
    public void HandlerRunsFromLockedTsegThatNormalAccessesCannotSee()
    {
        using var run = new Run(Workload);

        Assert.Equal(StopReason.PowerOff, run.RunFor(10_000_000));

        Assert.Equal(SmmFlashProgram.TsegBase, run.Machine.Cpu.SmBase);
        Assert.Equal(SmmFlashProgram.TsegBytes, run.Machine.Mch.TsegSize);
        Assert.NotEqual(0, run.Machine.Mch.Smram & 0x10); // D_LCK
        Assert.Equal(0xFFFF_FFFFUL, run.Machine.Bus.Read(SmmFlashProgram.TsegBase + 0x8000, 4));
        run.Machine.Bus.SmmView = true;
        Assert.NotEqual(0xFFFF_FFFFUL, run.Machine.Bus.Read(SmmFlashProgram.TsegBase + 0x8000, 4));
        run.Machine.Bus.SmmView = false;
        Assert.True(run.Machine.Cpu.SmmInstructions > Workload.BytesProgrammed * 7, $"{run.Machine.Cpu.SmmInstructions} instructions in SMM");
    }

    [Fact]
    public void OnFlashThatIsNotSecureTheProgramStopsBeforeTheStartMarker()
    {
        using var run = new Run(Workload, adjust: o => new MachineOptions
        {
            Chipset = o.Chipset, Smm = o.Smm, RamSize = o.RamSize, Flash = o.Flash, SerialPorts = o.SerialPorts, SecureFlash = false,
        });

        Assert.Equal(StopReason.PowerOff, run.RunFor(10_000_000));

        Assert.Equal(SmmFlashProgram.NotSecureMessage + "\r\n", run.Console);
        Assert.Equal(1, run.Vars.BytesProgrammed);
    }

    [Fact]
    public void WithOtherRamThanTheWorkloadsTheProgramStopsAtOnce()
    {
        using var run = new Run(Workload, adjust: o => new MachineOptions
        {
            Chipset = o.Chipset, Smm = o.Smm, SecureFlash = o.SecureFlash, Flash = o.Flash, SerialPorts = o.SerialPorts, RamSize = 128UL << 20,
        });

        Assert.Equal(StopReason.PowerOff, run.RunFor(10_000_000));

        Assert.Equal(SmmFlashProgram.WrongRamMessage + "\r\n", run.Console);
        Assert.Equal(0, run.Machine.Cpu.SmmEntries);
    }

    [Fact]
    public void WithThe32BitStateSaveMapTheRelocationStubRefusesAndTheProgramStops()
    {
        // qemu-system-i386's map (emu --cpu qemu32) has no SMBASE field at 0x7F00: relocating
        // there would leave SMBASE at 0x30000, outside SMRAM, so the stub reports it instead.
        using var run = new Run(Workload, adjust: o => new MachineOptions
        {
            Chipset = o.Chipset, Smm = o.Smm, SecureFlash = o.SecureFlash, RamSize = o.RamSize, Flash = o.Flash, SerialPorts = o.SerialPorts, SmmSaveMap32 = true,
        });

        Assert.Equal(StopReason.PowerOff, run.RunFor(10_000_000));

        Assert.Equal(SmmFlashProgram.RelocationRefusedMessage + "\r\n", run.Console);
        Assert.Equal(1, run.Machine.Cpu.SmmEntries);
        Assert.Equal(0, run.Vars.SmmWrites);
    }

    [Fact]
    public void RoundTripLoopProgramsOneRequestPerSmi()
    {
        var workload = new FlashWorkload(FlashWorkload.BlockSize, 1, FlashGuestPath.Smm, 16);
        using var run = new Run(workload, SmmFlashProgram.BuildRoundTripCodeImage(workload));

        Assert.Equal(StopReason.InstructionLimit, run.RunFor(2_000_000));

        Assert.Equal($"{FlashWorkload.StartMarker}\r\n", run.Console);
        long requests = run.Machine.Cpu.SmmEntries - 1;
        Assert.True(requests > 100, $"{requests} round trips");
        long programmed = run.Vars.BytesProgrammed;
        Assert.InRange(programmed, (requests - 1) * 16, requests * 16);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => FlashWorkload.DataByte(0, i)), run.Vars.Contents[..16].ToArray());
        Assert.All(run.Vars.Contents[16..].ToArray(), b => Assert.Equal(0xFF, b));
    }

    [Theory]
    [InlineData(SmmFlashProgram.CommOffset, FlashWorkload.BlockSize - 8)] // runs past the region
    [InlineData(SmmFlashProgram.CommLength, 0)]
    [InlineData(SmmFlashProgram.CommLength, FlashWorkload.MaxSmiBytes + 1)]
    [InlineData(SmmFlashProgram.CommCommand, 7)]
    public void HandlerRefusesARequestOutsideItsRules(uint field, uint value)
    {
        var workload = new FlashWorkload(FlashWorkload.BlockSize, 1, FlashGuestPath.Smm, 16);
        using var run = new Run(workload, SmmFlashProgram.BuildRoundTripCodeImage(workload));
        Assert.Equal(StopReason.InstructionLimit, run.RunFor(200_000));
        long programmed = run.Vars.BytesProgrammed;

        // The caller's buffer changes under the loop: the next SMI must refuse it and write nothing.
        run.Machine.Bus.Write(field, 4, value);

        Assert.Equal(StopReason.PowerOff, run.RunFor(200_000));
        Assert.EndsWith(SmmFlashProgram.RequestRefusedMessage + "\r\n", run.Console);
        Assert.InRange(run.Vars.BytesProgrammed - programmed, 0, 16); // at most the request in flight
        Assert.All(run.Vars.Contents[16..].ToArray(), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void BenchRunCountsEveryRequestAsOneSmiAndTheSameInstructionsEachTime()
    {
        var first = FlashGuestBench.Run(Workload);
        var second = FlashGuestBench.Run(Workload);

        Assert.Equal(Workload.Smis, first.Smis);
        Assert.Equal(first.Instructions, second.Instructions);
        Assert.Equal(first.SmmInstructions, second.SmmInstructions);
        Assert.True(first.SmisPerSecond > 0 && first.MicrosecondsPerSmi > 0);
    }

    [Fact]
    public void BenchRunWithAVarsFileLeavesTheWorkloadsImageInIt()
    {
        var figure = FlashGuestBench.Run(Workload, Path.GetTempPath());

        Assert.Equal(Workload.BytesProgrammed + (Workload.BlocksErased * FlashWorkload.BlockSize), figure.File!.BytesPersisted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(FlashWorkload.MaxSmiBytes + 1)]
    public void RejectsRequestSizesTheBufferCannotHold(int smiBytes) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlashWorkload(FlashWorkload.BlockSize, 1, FlashGuestPath.Smm, smiBytes));
}
