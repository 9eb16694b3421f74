using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>A q35 machine with blank flash for register-level tests, and configuration access through 0xCF8/0xCFC.</summary>
internal static class Q35Board
{
    public const int Lpc = (31 << 3) | 0;
    public const int Ahci = (31 << 3) | 2;
    public const int Smbus = (31 << 3) | 3;

    public static PcMachine Machine(bool smm = true, ulong ram = 16UL << 20) => new(new MachineOptions
    {
        Chipset = PcChipset.Q35,
        Smm = smm,
        RamSize = ram,
        Flash = [new("code", new byte[0x10000], true), new("vars", Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(), false)],
        SerialPorts = [new IsaSerialPort(0), new IsaSerialPort(1)],
    });

    public static uint Read(PcMachine m, int devfn, int register, int size = 4)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(devfn << 8) | (uint)(register & 0xFC));
        return m.Ports.Read((ushort)(0xCFC + (register & 3)), size);
    }

    public static void Write(PcMachine m, int devfn, int register, uint value, int size = 4)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(devfn << 8) | (uint)(register & 0xFC));
        m.Ports.Write((ushort)(0xCFC + (register & 3)), size, value);
    }

    /// <summary>What OVMF's SEC does: PMBASE 0x600, ACPI_CNTL.ACPI_EN.</summary>
    public static void EnablePmBlock(PcMachine m, ushort pmBase = 0x600)
    {
        Write(m, Lpc, 0x40, pmBase | 1u);
        Write(m, Lpc, 0x44, 0x80, 1);
    }
}
