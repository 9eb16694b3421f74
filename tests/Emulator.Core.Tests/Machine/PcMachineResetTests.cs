using Emulator.Core.Cpu;
using Emulator.Core.Devices.LocalApic;
using Emulator.Core.Devices.Pci;
using Emulator.Core.Machine;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// Machine reset on the pc machine: tiny real-mode programs at the reset vector count their boots
/// in RAM (which a reset keeps) and reset the machine each way the guest can; the machine
/// restarts them from the reset vector, or ends the run under NoReboot, or stops a reset loop.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PcMachineResetTests
{
    private const int CodeSize = 0x10000;
    private const ulong BootCounter = 0x500;

    /// <summary>
    /// A 64 KiB firmware whose code at F000:F000 increments the boot counter at 0:0500 and, while
    /// it is below <paramref name="boots"/>, runs <paramref name="reset"/> and spins; then halts with
    /// interrupts off (the run stops as Halted). The reset vector F000:FFF0 jumps to it.
    /// </summary>
    private static byte[] Firmware(int boots, Action<Assembler> reset)
    {
        var image = new byte[CodeSize];
        var code = TestMachine.Assemble(16, 0xF000, a =>
        {
            var done = a.CreateLabel();
            var spin = a.CreateLabel();
            a.inc(__byte_ptr[BootCounter]);
            a.cmp(__byte_ptr[BootCounter], boots);
            a.jae(done);
            reset(a);
            a.Label(ref spin);
            a.jmp(spin);
            a.Label(ref done);
            a.cli();
            a.hlt();
        });
        code.CopyTo(image, 0xF000);
        var vector = TestMachine.Assemble(16, 0xFFF0, a => a.jmp(0xF000));
        vector.CopyTo(image, 0xFFF0);
        return image;
    }

    private static PcMachine Machine(byte[] firmware, bool noReboot = false, int maxResets = PcMachine.DefaultMaxResets) =>
        new(new MachineOptions
        {
            RamSize = 16UL << 20,
            Flash = [new("code", firmware, true), new("vars", new byte[0x20000].Select(_ => (byte)0xFF).ToArray(), false)],
            NoReboot = noReboot,
            MaxResets = maxResets,
        });

    private static void ResetControlRegister(Assembler a)
    {
        a.mov(dx, 0xCF9);
        a.mov(al, 0x06);
        a.@out(dx, al);
    }

    private static void KeyboardController(Assembler a)
    {
        a.mov(al, 0xFE);
        a.@out(0x64, al);
    }

    private static void FastReset(Assembler a)
    {
        a.mov(al, 0x03);
        a.@out(0x92, al);
    }

    /// <summary>An IDT limit of 0 (descriptor built at 0:0600) makes INT3 fault, the #DF fault too: a triple fault.</summary>
    private static void TripleFault(Assembler a)
    {
        a.mov(__word_ptr[0x600], 0);
        a.mov(__dword_ptr[0x602], 0);
        a.lidt(__[0x600]);
        a.int3();
    }

    public static TheoryData<string, ResetCause> Causes => new()
    {
        { nameof(ResetControlRegister), ResetCause.ResetControl },
        { nameof(KeyboardController), ResetCause.KeyboardController },
        { nameof(FastReset), ResetCause.FastReset },
        { nameof(TripleFault), ResetCause.TripleFault },
    };

    private static Action<Assembler> Program(string name) => name switch
    {
        nameof(ResetControlRegister) => ResetControlRegister,
        nameof(KeyboardController) => KeyboardController,
        nameof(FastReset) => FastReset,
        _ => TripleFault,
    };

    [Theory]
    [MemberData(nameof(Causes))]
    public void EachResetSourceRestartsFromTheResetVectorKeepingRam(string program, ResetCause cause)
    {
        using var m = Machine(Firmware(3, Program(program)));
        var rebooted = new List<MachineReset>();
        m.Rebooted += rebooted.Add;

        Assert.Equal(StopReason.Halted, m.Run(1_000_000));

        // Two resets; the counter survived both (RAM is not cleared) and counted three boots.
        Assert.Equal(3, (int)m.Bus.Read(BootCounter, 1));
        Assert.Equal(2, m.Resets.Count);
        Assert.All(m.Resets, r => Assert.Equal(cause, r.Cause));
        Assert.Equal([0, 1], m.Resets.Select(r => r.Boot));
        Assert.Equal(m.Resets, rebooted);
        Assert.Equal(2, m.Boot);
        Assert.True(m.Resets[1].Instruction > m.Resets[0].Instruction, "the instruction count runs on across resets");
        Assert.Equal(16, m.Cpu.Bitness);
    }

    [Theory]
    [MemberData(nameof(Causes))]
    public void NoRebootEndsTheRunAtTheFirstReset(string program, ResetCause cause)
    {
        using var m = Machine(Firmware(3, Program(program)), noReboot: true);
        var reason = m.Run(1_000_000);

        Assert.Equal(cause == ResetCause.TripleFault ? StopReason.TripleFault : StopReason.Reset, reason);
        var only = Assert.Single(m.Resets);
        Assert.Equal(cause, only.Cause);
        Assert.Equal(1, (int)m.Bus.Read(BootCounter, 1));
        Assert.Equal(0, m.Boot);
        Assert.NotNull(m.StopDetail);
    }

    [Fact]
    public void AResetLoopStopsAtTheLimit()
    {
        using var m = Machine(Firmware(255, ResetControlRegister), maxResets: 3);
        Assert.Equal(StopReason.ResetLimit, m.Run(10_000_000));
        Assert.Equal(4, m.Resets.Count);
        Assert.Contains("reset loop", m.StopDetail, StringComparison.Ordinal);
        Assert.Equal(4, (int)m.Bus.Read(BootCounter, 1));
    }

    [Fact]
    public void ResetControlKeepsTheResetTypeAndIgnoresWideAddressWrites()
    {
        using var m = Machine(Firmware(1, ResetControlRegister));
        m.Ports.Write(0xCF9, 1, 0x02);
        Assert.Equal(0x02u, m.Ports.Read(0xCF9, 1));
        m.Ports.Write(0xCF8, 4, 0x8000_0000);    // the PCI address register, not the RCR
        Assert.Equal(0x8000_0000u, m.Pci.Address);
        Assert.Equal(0x02u, m.Ports.Read(0xCF9, 1));
        Assert.Empty(m.Resets);
        m.Reset();
        Assert.Equal(0x00u, m.Ports.Read(0xCF9, 1));
    }

    [Fact]
    public void ResetPutsFlashBackInReadArrayModeWithContentsAndDevicesAtPowerOn()
    {
        using var m = Machine(Firmware(1, ResetControlRegister));
        ulong vars = m.FlashPlacements[1].Base;

        // Program a byte, then leave the chip in read-ID mode, as a reset in mid-command would.
        m.Bus.Write(vars + 0x40, 1, 0x10);
        m.Bus.Write(vars + 0x40, 1, 0x5A);
        m.Bus.Write(vars, 1, 0x90);
        Assert.NotEqual(0xFFUL, m.Bus.Read(vars + 0x40, 1) & 0xFF);

        // PAM0 open for RAM, PM base programmed and enabled, the local APIC software-enabled.
        WriteConfig(m, 0, 0x58, 0x3000_0000);
        WriteConfig(m, (1 << 3) | 3, Piix4PowerManagement.PmBaseOffset, 0xB001);
        WriteConfig(m, (1 << 3) | 3, Piix4PowerManagement.PmRegMiscOffset, 1);
        Assert.NotEqual(0xFFFFFFFFu, m.Ports.Read(0xB008, 4));
        m.Bus.Write(Xapic.DefaultBase + Xapic.SpuriousVectorRegister, 4, 0x1FF);
        m.Ports.Write(0x60, 1, 0xFF);   // keyboard reset: ACK and BAT waiting in the buffer

        m.Reset();

        Assert.Equal(0x5AUL, m.Bus.Read(vars + 0x40, 1));                // read-array mode, contents kept
        Assert.Equal(0u, ReadConfig(m, 0, 0x58) >> 24 & 0xFF);           // PAM0 back to 0: BIOS area reads flash
        Assert.Equal(0xFFFFFFFFu, m.Ports.Read(0xB008, 4));              // PM block unmapped
        Assert.Equal(1u, ReadConfig(m, (1 << 3) | 3, Piix4PowerManagement.PmBaseOffset));
        Assert.Equal(0xFFUL, m.Bus.Read(Xapic.DefaultBase + Xapic.SpuriousVectorRegister, 4));
        Assert.Equal(0u, m.Ports.Read(0x64, 1) & 1u);                    // keyboard buffer empty
        Assert.Equal(0xFFFFFFF0UL, m.Cpu.LinearRip);
        Assert.Equal(1, m.Boot);
    }

    private static void WriteConfig(PcMachine m, int devfn, int register, uint value)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(devfn << 8) | (uint)register);
        m.Ports.Write(0xCFC, 4, value);
    }

    private static uint ReadConfig(PcMachine m, int devfn, int register)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(devfn << 8) | (uint)register);
        return m.Ports.Read(0xCFC, 4);
    }
}
