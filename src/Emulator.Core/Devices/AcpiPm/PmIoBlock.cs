// PIIX4 power-management I/O block (Intel 82371AB PIIX4 datasheet §7.2, ACPI 1.0 fixed
// registers) as QEMU's piix4_pm/acpi core exposes it: 64 ports at the base programmed in PCI
// 00:01.3 register 0x40 (OVMF uses 0xB000).
// Emulated: PM1 status (+0, write-1-to-clear; TMR_STS set when bit 23 of the PM timer has
// toggled since it was last cleared), PM1 enable (+2), PM1 control (+4: SCI_EN bit 0, SLP_TYP
// bits 10–12, SLP_EN bit 13 write-only: raises SleepRequested(type)), the PM timer (+8, 24-bit,
// 3,579,545 Hz, computed from virtual nanoseconds exactly as QEMU's muldiv64(ns, 3579545, 1e9)),
// an SCI output line (PM1 status & enable or the GPE0 block's pending bits, as QEMU's
// acpi_update_sci, gated by SCI_EN: ACPI 6.4 §4.8.3.2.1). QEMU's block is a 64-port container
// (hw/acpi/piix4.c "piix4-pm") holding only PM1 event (+0..+3), PM1 control (+4..+5) and the
// timer (+8..+11): every other offset falls through to unassigned I/O and reads all-ones. GPE0 is
// not here but at the fixed ports 0xAFE0–0xAFE3 (Gpe0Block.cs).
// The q35 board's ICH9 PM block (QEMU hw/acpi/ich9.c ich9_pm_init) has the same PM1 registers
// and timer at the same offsets and is built from this class with its own name, a 16-byte GPE0
// (mapped by the machine at +0x20) and, when SMM is off, SCI_EN set at reset (QEMU
// acpi_pm1_cnt_reset with acpi_only = !smm_enabled).
// Not emulated: the SCI on timer overflow happens only when the status is next evaluated (an
// access), not at the exact overflow time; PCNTRL/throttling, GPI/GPO, device monitors, SMI.
// Firmware relies on: the PM timer for every delay (busy-waits reading +8), SCI_EN in PM1
// control, S5 (SLP_TYP 0 on QEMU's PIIX4 DSDT) for power-off through SLP_EN.
using Emulator.Core.Io;
using Emulator.Core.Timing;

namespace Emulator.Core.Devices.AcpiPm;

/// <summary>The 64-port PIIX4 PM register block: PM1 event/control registers and the ACPI PM timer.</summary>
public sealed class PmIoBlock : IPortDevice, IDevice
{
    public const int PortCount = 64;
    public const ushort Pm1StatusOffset = 0x00;
    public const ushort Pm1EnableOffset = 0x02;
    public const ushort Pm1ControlOffset = 0x04;
    public const ushort PmTimerOffset = 0x08;
    public const long TimerFrequency = 3_579_545;
    public const uint TimerMask = 0x00FF_FFFF;

    public const ushort StatusTimer = 0x0001;
    public const ushort StatusBusMaster = 0x0010;
    public const ushort StatusGlobal = 0x0020;
    public const ushort StatusPowerButton = 0x0100;
    public const ushort StatusRtc = 0x0400;
    public const ushort StatusWake = 0x8000;
    public const ushort EnableTimer = 0x0001;
    public const ushort ControlSciEnable = 0x0001;
    public const ushort ControlSleepEnable = 0x2000;
    public const int SleepTypeShift = 10;
    public const ushort SleepTypeMask = 0x7;

    private const long NanosecondsPerSecond = 1_000_000_000;
    private const int TimerOverflowBit = 23;

    /// <summary>What QEMU's unassigned I/O (softmmu/ioport.c unassigned_io_read) answers for an offset the container leaves empty.</summary>
    private const byte UnassignedByte = 0xFF;

    private readonly Func<long> _virtualNanoseconds;
    private readonly ushort _resetControl;
    private ushort _status;
    private ushort _enable;
    private ushort _control;
    private long _overflowsSeen;

    /// <param name="virtualNanoseconds">The virtual clock the PM timer counts.</param>
    /// <param name="name">The device name (PIIX4's by default).</param>
    /// <param name="sciName">The SCI output line's name.</param>
    /// <param name="gpe0Length">Ports of the GPE0 block this function owns (PIIX4: 4, ICH9: 16).</param>
    /// <param name="sciEnabledAtReset">SCI_EN after reset: QEMU's acpi_only PM1 control (ICH9 without SMM).</param>
    public PmIoBlock(Func<long> virtualNanoseconds, string name = "piix4-pm-io", string sciName = "piix4-pm.sci", int gpe0Length = Gpe0Block.PortCount, bool sciEnabledAtReset = false)
    {
        _virtualNanoseconds = virtualNanoseconds;
        Name = name;
        Sci = new OutputLine(sciName);
        Gpe0 = new Gpe0Block(gpe0Length);
        _resetControl = sciEnabledAtReset ? ControlSciEnable : (ushort)0;
        _control = _resetControl;
        Gpe0.Changed += UpdateSci;
    }

    /// <summary>The GPE0 registers whose pending bits this function's SCI carries (the machine maps them).</summary>
    public Gpe0Block Gpe0 { get; }

    public string Name { get; }

    /// <summary>Raised when the guest writes SLP_EN; the argument is SLP_TYP (bits 10–12 of PM1 control).</summary>
    public event Action<int>? SleepRequested;

    /// <summary>The SCI output, set when its level changes (QEMU's piix4_pm irq, ISA IRQ 9 on the pc board).</summary>
    public OutputLine Sci { get; }

    public bool SciEnabled => (_control & ControlSciEnable) != 0;

    /// <summary>
    /// Machine reset (QEMU acpi_pm1_evt_reset, acpi_pm1_cnt_reset, acpi_gpe_reset): status, enable,
    /// control (SCI_EN off, or on for an ACPI-only ICH9) and GPE registers cleared. The timer keeps
    /// counting: it is the clock.
    /// </summary>
    public void Reset()
    {
        _status = 0;
        _enable = 0;
        _control = _resetControl;
        Gpe0.Reset();
        _overflowsSeen = TimerTicks >> TimerOverflowBit;
        UpdateSci();
    }

    /// <summary>The PM1 registers, the timer-overflow bookkeeping, the SCI level and GPE0 (QEMU vmstate "piix4_pm" pm1/gpe parts).</summary>
    public DeviceState SaveState() =>
        new PmIoState(_status, _enable, _control, _overflowsSeen, Sci.Level, (Gpe0State)Gpe0.SaveState());

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<PmIoState>(state, this);
        _status = s.Status;
        _enable = s.Enable;
        _control = s.Control;
        _overflowsSeen = s.OverflowsSeen;
        Gpe0.RestoreState(s.Gpe0);
        Sci.Restore(s.Sci);
    }

    /// <summary>The free-running timer count (before the 24-bit wrap) at the current virtual time.</summary>
    public long TimerTicks => (long)((Int128)_virtualNanoseconds() * TimerFrequency / NanosecondsPerSecond);

    /// <summary>Told of every PM timer read before its value is computed: OVMF busy-waits on this clock.</summary>
    public BusyWaitSkipper? WaitSkipper { get; set; }

    public uint Read(ushort offset, int size)
    {
        if (offset + size > PmTimerOffset && offset < PmTimerOffset + 4)
        {
            WaitSkipper?.ClockRead();
        }

        uint value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (uint)ReadByte(offset + i) << (8 * i);
        }

        return value;
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (offset == Pm1StatusOffset && size >= 2)
        {
            WriteStatus((ushort)value);
        }
        else if (offset == Pm1EnableOffset && size == 2)
        {
            _enable = (ushort)value;
        }
        else if (offset == Pm1ControlOffset && size == 2)
        {
            WriteControl((ushort)value);
        }
        else
        {
            for (int i = 0; i < size; i++)
            {
                WriteByte(offset + i, (byte)(value >> (8 * i)));
            }
        }

        UpdateSci();
    }

    private byte ReadByte(int offset)
    {
        int shift = 8 * (offset & 1);
        return offset switch
        {
            Pm1StatusOffset or Pm1StatusOffset + 1 => (byte)(CurrentStatus() >> shift),
            Pm1EnableOffset or Pm1EnableOffset + 1 => (byte)(_enable >> shift),
            Pm1ControlOffset or Pm1ControlOffset + 1 => (byte)((_control & ~ControlSleepEnable) >> shift),
            >= PmTimerOffset and < PmTimerOffset + 4 => (byte)(((uint)TimerTicks & TimerMask) >> (8 * (offset - PmTimerOffset))),
            _ => UnassignedByte,
        };
    }

    private void WriteByte(int offset, byte value)
    {
        int shift = 8 * (offset & 1);
        switch (offset)
        {
            case Pm1StatusOffset:
            case Pm1StatusOffset + 1:
                WriteStatus((ushort)(value << shift));
                break;
            case Pm1EnableOffset:
            case Pm1EnableOffset + 1:
                _enable = Merge(_enable, value, shift);
                break;
            case Pm1ControlOffset:
            case Pm1ControlOffset + 1:
                WriteControl(Merge((ushort)(_control & ~ControlSleepEnable), value, shift));
                break;
        }
    }

    private static ushort Merge(ushort old, byte value, int shift) =>
        (ushort)((old & ~(0xFF << shift)) | (value << shift));

    private ushort CurrentStatus()
    {
        long overflows = TimerTicks >> TimerOverflowBit;
        if (overflows != _overflowsSeen)
        {
            _overflowsSeen = overflows;
            _status |= StatusTimer;
        }

        return _status;
    }

    private void WriteStatus(ushort value)
    {
        CurrentStatus();
        _status &= (ushort)~value;
    }

    /// <summary>Sets or clears SCI_EN as the APM port's ACPI_ENABLE/ACPI_DISABLE do (QEMU acpi_pm1_cnt_update).</summary>
    public void SetSciEnable(bool enable)
    {
        _control = enable ? (ushort)(_control | ControlSciEnable) : (ushort)(_control & ~ControlSciEnable);
        UpdateSci();
    }

    private void WriteControl(ushort value)
    {
        _control = (ushort)(value & ~ControlSleepEnable);
        if ((value & ControlSleepEnable) != 0)
        {
            SleepRequested?.Invoke((value >> SleepTypeShift) & SleepTypeMask);
        }
    }

    private void UpdateSci()
    {
        bool sci = ((CurrentStatus() & _enable) != 0 || Gpe0.SciPending) && SciEnabled;
        if (sci != Sci.Level)
        {
            Sci.Set(sci);
        }
    }
}

/// <summary>PM1 status, enable and control, the timer overflows already reflected in TMR_STS, the SCI level and GPE0.</summary>
public sealed record PmIoState(ushort Status, ushort Enable, ushort Control, long OverflowsSeen, bool Sci, Gpe0State Gpe0) : DeviceState;
