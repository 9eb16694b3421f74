using Emulator.Core.Cpu;
using Emulator.Core.Devices.CfiFlash;
using Emulator.Core.Machine;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Devices.Flash;

/// <summary>
/// QEMU's <c>cfi.pflash01.secure=on</c> (hw/block/pflash_cfi01.c, pflash_mem_read_with_attrs and
/// pflash_mem_write_with_attrs): writes from outside SMM are dropped without a trace, reads from
/// outside SMM see the array, SMM accesses are ordinary cfi01 accesses. The origin of each access
/// is the machine's CPU, put in and out of SMM by the test.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CfiFlashSecureTests : IDisposable
{
    private const ulong VarsSize = 0x20000;

    private readonly PcMachine _machine;
    private readonly FlashDriver _vars;

    public CfiFlashSecureTests()
    {
        _machine = Machine(secure: true);
        _vars = new FlashDriver(_machine, 1);
    }

    private bool InSmm
    {
        set => _machine.Cpu.SetInSmm(value);
    }

    public void Dispose() => _machine.Dispose();

    private static PcMachine Machine(bool secure)
    {
        var vars = new byte[VarsSize];
        vars.AsSpan().Fill(0xFF);
        vars[0x10] = 0x8D;
        return new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            SecureFlash = secure,
            Flash = [new("code", new byte[0x1E0000], true), new("vars", vars, false)],
        });
    }

    [Fact]
    public void NonSmmProgramIsDroppedWithoutAnyStateChange()
    {
        _vars.Command(0x100, FlashCommand.SingleProgram);
        Assert.True(_vars.Chip.ArrayMode); // the setup write did not even leave read-array mode
        _vars.Write(0x100, 1, 0x42);
        Assert.Equal(0xFF, _vars.Chip.Contents[0x100]);
        Assert.Equal(0, _vars.Chip.BytesProgrammed);
        Assert.Equal(2, _vars.Chip.RejectedWrites);
        Assert.Equal(0, _vars.Chip.SmmWrites);
    }

    [Fact]
    public void NonSmmEraseIsDropped()
    {
        _vars.EraseAsOvmf(0);
        Assert.Equal(0x8D, _vars.Chip.Contents[0x10]);
        Assert.Equal(0, _vars.Chip.BlocksErased);
        Assert.Equal(2, _vars.Chip.RejectedWrites);
    }

    [Fact]
    public void OvmfProbeOutsideSmmSeesRomNotFlash()
    {
        // The 0x50/0x70 writes vanish, so the byte reads back unchanged both times: OVMF's
        // QemuFlashDetected concludes ROM, which is why a secure varstore needs the SMM driver.
        Assert.Equal(ProbeResult.Rom, _vars.ProbeAsOvmf());
    }

    [Fact]
    public void SmmProgramsAndIsCounted()
    {
        InSmm = true;
        Assert.Equal(ProbeResult.Flash, _vars.ProbeAsOvmf());
        _vars.ProgramAsOvmf(0x100, [0x12, 0x34]);
        Assert.Equal(0x12, _vars.Chip.Contents[0x100]);
        Assert.Equal(0x34, _vars.Chip.Contents[0x101]);
        Assert.Equal(2, _vars.Chip.BytesProgrammed);
        Assert.Equal(3 + 5, _vars.Chip.SmmWrites); // the probe: 0x50, 0x70, 0xFF; the program: 2 × (0x10, data), 0xFF
        Assert.Equal(0, _vars.Chip.RejectedWrites);
    }

    [Fact]
    public void NonSmmReadsSeeTheArrayWhileSmmLeftTheChipInStatusMode()
    {
        InSmm = true;
        _vars.Program(0x100, 1, 0x42); // a finished program: reads return status until 0xFF
        Assert.False(_vars.Chip.ArrayMode);
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(0x100));

        InSmm = false;
        Assert.Equal(0x42, _vars.ReadByte(0x100));        // pflash_data_read, not status
        Assert.Equal(0x8D, _vars.ReadByte(0x10));
        Assert.Equal(0xFFFF_FFFFUL, _vars.Read(0x200, 4));

        InSmm = true;
        Assert.Equal(FlashStatus.Ready, _vars.ReadByte(0x100)); // SMM still sees the device
    }

    [Fact]
    public void NonSmmReadsNeverSeeCfiData()
    {
        InSmm = true;
        _vars.Command(0, FlashCommand.CfiQuery);
        Assert.Equal((byte)'Q', _vars.ReadByte(0x10));
        InSmm = false;
        Assert.Equal(0x8D, _vars.ReadByte(0x10));
        _vars.Command(0, FlashCommand.ReadArray); // dropped: the chip stays in query mode
        InSmm = true;
        Assert.Equal((byte)'Q', _vars.ReadByte(0x10));
    }

    [Fact]
    public void MachineWiresTheCpusSmmStateAndTheSecureProperty()
    {
        // A fresh machine: its CPU is not in SMM, so a write is refused.
        using var machine = Machine(secure: true);
        var vars = new FlashDriver(machine, 1);
        Assert.True(vars.Chip.Secure);
        vars.Program(0x100, 1, 0x42);
        Assert.Equal(0xFF, vars.Chip.Contents[0x100]);
        Assert.Equal(2, vars.Chip.RejectedWrites);
    }

    [Fact]
    public void NonSecureChipCountsSmmWritesAndAcceptsTheRest()
    {
        using var machine = Machine(secure: false);
        var vars = new FlashDriver(machine, 1);
        vars.Program(0x100, 1, 0x42);
        machine.Cpu.SetInSmm(true);
        vars.Program(0x101, 1, 0x43);
        vars.ReadArrayMode();
        Assert.Equal(0x42, vars.ReadByte(0x100));
        Assert.Equal(0x43, vars.ReadByte(0x101));
        Assert.Equal(3, vars.Chip.SmmWrites);
        Assert.Equal(0, vars.Chip.RejectedWrites);
    }

    [Fact]
    public void CountersSurviveSaveAndRestore()
    {
        _vars.Program(0x100, 1, 0x42);
        InSmm = true;
        _vars.Program(0x100, 1, 0x42);
        var state = _vars.Chip.SaveState();
        using var machine = Machine(secure: true);
        var chip = machine.FlashChips[1];
        chip.RestoreState(state);
        Assert.Equal(2, chip.SmmWrites);
        Assert.Equal(2, chip.RejectedWrites);
    }

    [Fact]
    public void GuestCodeInSmmProgramsASecureChipThatRefusedTheSameWriteOutside()
    {
        // A 64 KiB code chip whose reset vector halts twice; the vars chip directly below it.
        var code = new byte[0x10000];
        byte[] reset = TestMachine.Assemble(16, 0xFFF0, a =>
        {
            a.cli();
            a.hlt();
            a.hlt();
        });
        reset.CopyTo(code, 0xFFF0);
        var vars = new byte[VarsSize];
        vars.AsSpan().Fill(0xFF);
        using var machine = new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            SecureFlash = true,
            Flash = [new("code", code, true), new("vars", vars, false)],
        });
        ulong target = machine.FlashPlacements[1].Base + 0x100;

        // The SMI handler (16-bit, flat 4 GiB data segments in SMM): OVMF's byte program, read array, RSM.
        byte[] handler = TestMachine.Assemble(16, 0x8000, a =>
        {
            a.mov(eax, (uint)target);
            a.mov(__byte_ptr[eax], FlashCommand.SingleProgram);
            a.mov(__byte_ptr[eax], 0x42);
            a.mov(__byte_ptr[eax], FlashCommand.ReadArray);
            a.rsm();
        });
        machine.Bus.WriteBlock(global::Emulator.Core.Cpu.Cpu.DefaultSmBase + 0x8000, handler);
        Assert.Equal(StopReason.Halted, machine.Cpu.Run(1000));

        // Outside SMM the same sequence is dropped.
        machine.Bus.Write(target, 1, FlashCommand.SingleProgram);
        machine.Bus.Write(target, 1, 0x42);
        Assert.Equal(0xFF, machine.FlashChips[1].Contents[0x100]);

        machine.Cpu.RaiseSmi();
        Assert.Equal(StopReason.Halted, machine.Cpu.Run(machine.Cpu.InstructionCount + 1000));
        var chip = machine.FlashChips[1];
        Assert.Equal(0x42, chip.Contents[0x100]);
        Assert.Equal(0x42UL, machine.Bus.Read(target, 1)); // read-array mode again
        Assert.Equal(3, chip.SmmWrites);
        Assert.Equal(2, chip.RejectedWrites);
        Assert.Equal(1, machine.Cpu.SmmEntries);
        Assert.Equal(5, machine.Cpu.SmmInstructions);
        Assert.False(machine.Cpu.InSmm);
    }
}
