// QEMU's ACPI CPU-hotplug register block of the PIIX4 PM function, I/O ports 0xAF00–0xAF1F on
// the pc machine (PIIX4_CPU_HOTPLUG_IO_BASE), as hw/acpi/cpu_hotplug.c (legacy) and
// hw/acpi/cpu.c (modern) implement it, with one possible and present CPU (APIC ID 0).
// Legacy mode (the state at power-on): 32 read-only bytes, a bitmap of present CPUs (byte 0 =
// 0x01); byte accesses only, so wider accesses act byte by byte as QEMU splits them. Writing 0 to
// byte 0 switches the block to modern mode for good (QEMU cpu_status_write: the property
// "cpu-hotplug-legacy" goes false and stays false across resets).
// Modern mode: 12 ports. +0 (write) CPU selector; +0 (read) CMD_DATA2, reads 0; +4 (read) flags of
// the selected CPU (bit 0 enabled); +5 (write) command (0 = get next CPU with an event: none have
// events here); +8 (read) command data: the selector after command 0. Every read returns 0 while
// the selector is not a possible CPU. Ports +12..+31 are unassigned in modern mode (all-ones).
// Not emulated: hotplug/unplug events, OST commands, the SCI on events, more than one CPU.
// Firmware relies on: OVMF PlatformPei (MaxCpuCountInitialization, when fw_cfg reports the boot
// CPU count) writes 0 to the selector (switching to modern mode), sends command 0, expects
// CMD_DATA2 to read 0, then counts CPUs by selecting 0, 1, ... until command data reads 0.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.AcpiPm;

/// <summary>The legacy/modern QEMU CPU-hotplug registers for a one-CPU machine.</summary>
public sealed class CpuHotplugBlock : IPortDevice, IDevice
{
    public const ushort BasePort = 0xAF00;
    public const int PortCount = 32;
    public const int ModernLength = 12;
    public const ushort SelectorOffset = 0;
    public const ushort FlagsOffset = 4;
    public const ushort CommandOffset = 5;
    public const ushort CommandDataOffset = 8;
    public const byte FlagEnabled = 0x01;
    public const byte CommandGetNextWithEvent = 0;

    private const int PossibleCpus = 1;
    private const byte PresentBitmapByte0 = 0x01;

    private uint _selector;
    private byte _command;

    public string Name => "acpi-cpu-hotplug";

    /// <summary>False once the guest switched the block to the modern interface.</summary>
    public bool LegacyMode { get; private set; } = true;

    /// <summary>
    /// Machine reset: nothing changes. The legacy/modern switch survives resets (QEMU's
    /// "cpu-hotplug-legacy" property), and neither QEMU's legacy block nor its modern one
    /// (hw/acpi/cpu.c) resets the selector or the command.
    /// </summary>
    public void Reset()
    {
    }

    public DeviceState SaveState() => new CpuHotplugState(LegacyMode, _selector, _command);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<CpuHotplugState>(state, this);
        LegacyMode = s.LegacyMode;
        _selector = s.Selector;
        _command = s.Command;
    }

    public uint Read(ushort offset, int size)
    {
        if (LegacyMode)
        {
            uint value = 0;
            for (int i = 0; i < size; i++)
            {
                value |= (uint)(offset + i == 0 ? PresentBitmapByte0 : 0) << (8 * i);
            }

            return value;
        }

        if (offset >= ModernLength)
        {
            return size >= 4 ? uint.MaxValue : (1u << (8 * size)) - 1;
        }

        if (_selector >= PossibleCpus)
        {
            return 0;
        }

        return offset switch
        {
            FlagsOffset => FlagEnabled,
            CommandDataOffset when _command == CommandGetNextWithEvent => _selector,
            _ => 0,
        };
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (LegacyMode)
        {
            // QEMU splits the access into bytes; only byte 0 written as 0 means anything.
            if (offset == 0 && (byte)value == 0)
            {
                LegacyMode = false;
            }

            return;
        }

        if (offset >= ModernLength || (offset != SelectorOffset && _selector >= PossibleCpus))
        {
            return;
        }

        switch (offset)
        {
            case SelectorOffset:
                _selector = value;
                break;
            case CommandOffset:
                // Command 0 scans for a CPU with an insert/remove event; none has one, so the
                // selector stays where it is.
                if (value < 3)
                {
                    _command = (byte)value;
                }

                break;
        }
    }
}

/// <summary>The CPU-hotplug block's mode, CPU selector and last command.</summary>
public sealed record CpuHotplugState(bool LegacyMode, uint Selector, byte Command) : DeviceState;
