using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>The machine's isa-debug-exit: the writing instruction completes, the run stops with GuestExit and the status; the first write decides.</summary>
[Trait("Category", "Unit")]
public sealed class DebugExitMachineTests
{
    [Fact]
    public void AGuestWriteStopsTheRunWithItsStatus()
    {
        // At the reset vector (F000:FFF0, real mode): mov al, 0x21; out 0xF4, al; mov al, 0x05; out 0xF4, al; hlt.
        using var m = new PcMachine(new MachineOptions { Bios = ResetVectorRom([0xB0, 0x21, 0xE6, 0xF4, 0xB0, 0x05, 0xE6, 0xF4, 0xF4]), DebugExit = new DebugExitPorts(0xF4, 4) });
        Assert.Equal(StopReason.GuestExit, m.Run(100));
        Assert.Equal(67, m.GuestExitStatus);
        Assert.Equal(2, m.Cpu.InstructionCount);
        Assert.Contains("exit status 67", m.StopDetail, StringComparison.Ordinal);
    }

    [Fact]
    public void PortsTakenByAnotherDeviceRefuseTheMachine()
    {
        var e = Assert.Throws<MachineConfigurationException>(() => new PcMachine(new MachineOptions { Bios = ResetVectorRom([0xF4]), DebugExit = new DebugExitPorts(0x3F8, 1) }));
        Assert.Equal("isa-debug-exit: port 0x3F8 is already used by com1", e.Message);
    }

    /// <summary>A 64 KiB ROM whose last 16 bytes (the reset vector) hold <paramref name="code"/>.</summary>
    private static byte[] ResetVectorRom(byte[] code)
    {
        var rom = new byte[0x10000];
        code.CopyTo(rom, 0xFFF0);
        return rom;
    }
}
