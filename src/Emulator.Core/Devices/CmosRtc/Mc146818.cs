// Motorola MC146818A real-time clock and 128 bytes of CMOS RAM as on the PC/AT and in QEMU's
// hw/rtc/mc146818rtc.c. Addresses: index port 0x70 (bits 0–6 select the register, bit 7 = NMI
// disable, write-only: reads return 0xFF as on QEMU), data port 0x71.
// Emulated: clock registers 0x00 (seconds), 0x02 (minutes), 0x04 (hours), 0x06 (day of week,
// 1 = Sunday), 0x07 (day), 0x08 (month), 0x09 (year) and the century byte 0x32 (also read
// through 0x37, the IBM PS/2 century byte, which QEMU aliases to 0x32 and which moves the index
// there, cmos_ioport_read/write), computed from a
// start date plus virtual time (deterministic), in BCD unless register B DM (bit 2) is set, 12-
// or 24-hour per register B bit 1 (12-hour: bit 7 = PM); guest writes set the clock (while
// register B SET is 1 the registers hold still and the clock restarts from them when SET is
// cleared); register A (UIP computed from time: set during the last 244 µs of each second when
// the divider runs and SET is clear, as QEMU's update_in_progress); register B; register C
// with the update-ended flag UF (bit 4), set whenever the clock passed a second boundary of
// virtual time since register C was last read, while the divider is not held in reset (QEMU's
// rtc_update_timer, which runs for SET = 1 too), cleared by reading; register D = 0x80 (VRT: RAM and time valid); alarm bytes 0x01/0x03/0x05,
// shutdown status 0x0F and every other byte stored; SetMemorySize writes the memory-size bytes
// exactly like QEMU's pc_cmos_init.
// Not emulated: IRQ 8 and the periodic and alarm flags (PF, AF, IRQF), daylight-saving (DSE),
// the 32 KHz divider chain other than "running or not" (QEMU's half-second delay of the first
// update after the divider leaves reset included).
// Firmware relies on: OVMF reads shutdown status 0x0F in SEC/PEI, 0x34/0x35 and 0x5B–0x5D for
// memory size without fw_cfg, and its RTC driver reads 0x00–0x0D and 0x32, writes A = 0x26,
// B = 0x02/0x82, and waits for UIP to clear.
using Emulator.Core.Io;

namespace Emulator.Core.Devices.CmosRtc;

/// <summary>The CMOS RAM and real-time clock behind ports 0x70/0x71.</summary>
public sealed class Mc146818 : IPortDevice, IDevice
{
    public const ushort BasePort = 0x70;
    public const int PortCount = 2;
    public const ushort IndexOffset = 0;
    public const ushort DataOffset = 1;
    public const int CmosSize = 128;
    public const byte IndexMask = 0x7F;
    public const byte NmiDisableBit = 0x80;

    public const int Seconds = 0x00;
    public const int SecondsAlarm = 0x01;
    public const int Minutes = 0x02;
    public const int MinutesAlarm = 0x03;
    public const int Hours = 0x04;
    public const int HoursAlarm = 0x05;
    public const int DayOfWeek = 0x06;
    public const int DayOfMonth = 0x07;
    public const int Month = 0x08;
    public const int Year = 0x09;
    public const int RegisterA = 0x0A;
    public const int RegisterB = 0x0B;
    public const int RegisterC = 0x0C;
    public const int RegisterD = 0x0D;
    public const int ShutdownStatus = 0x0F;
    public const int EquipmentByte = 0x14;
    public const int BaseMemoryLow = 0x15;
    public const int BaseMemoryHigh = 0x16;
    public const int ExtendedMemoryLow = 0x17;
    public const int ExtendedMemoryHigh = 0x18;
    public const int ExtendedMemoryCopyLow = 0x30;
    public const int ExtendedMemoryCopyHigh = 0x31;
    public const int Century = 0x32;
    public const int Ps2Century = 0x37;
    public const int BootDeviceThird = 0x38;
    public const int BootDevicesFirstSecond = 0x3D;
    public const int MemoryAbove16MiBLow = 0x34;
    public const int MemoryAbove16MiBHigh = 0x35;
    public const int MemoryAbove4GiBLow = 0x5B;
    public const int MemoryAbove4GiBMiddle = 0x5C;
    public const int MemoryAbove4GiBHigh = 0x5D;

    public const byte RegisterAUpdateInProgress = 0x80;
    public const byte RegisterADividerMask = 0x70;
    public const byte RegisterADividerNormal = 0x20;
    public const byte RegisterADividerReset = 0x60;
    public const byte RegisterCUpdateEnded = 0x10;
    public const byte RegisterADefault = 0x26;
    public const byte RegisterBSet = 0x80;
    public const byte RegisterBBinary = 0x04;
    public const byte RegisterB24Hour = 0x02;
    public const byte RegisterBDefault = RegisterB24Hour;
    public const byte RegisterDValid = 0x80;
    public const byte HourPm = 0x80;

    private const long NanosecondsPerSecond = 1_000_000_000;
    private const long UpdateInProgressNanoseconds = 8 * NanosecondsPerSecond / 32768;
    private const long NanosecondsPerTick = 100;
    private const ulong KiB = 1024;
    private const ulong MiB = 1024 * KiB;
    private const ulong BaseMemoryLimitKiB = 640;
    private const ulong SixtyFourKiB = 64 * KiB;
    private const ulong MaxWord = 0xFFFF;

    private readonly byte[] _cmos = new byte[CmosSize];
    private readonly Func<long> _virtualNanoseconds;
    private DateTime _base;
    private int _index;

    /// <summary>Virtual time up to which register C's update-ended flag accounts for second boundaries.</summary>
    private long _updatesSeenUntil;

    /// <param name="virtualNanoseconds">The machine's virtual time.</param>
    /// <param name="start">The date and time the clock shows at virtual time 0 (its Kind is ignored).</param>
    public Mc146818(Func<long> virtualNanoseconds, DateTime start)
    {
        _virtualNanoseconds = virtualNanoseconds;
        _base = DateTime.SpecifyKind(start, DateTimeKind.Unspecified);
        _cmos[RegisterA] = RegisterADefault;
        _cmos[RegisterB] = RegisterBDefault;
        _cmos[RegisterD] = RegisterDValid;
    }

    public string Name => "cmos-rtc";

    public bool NmiDisabled { get; private set; }

    /// <summary>The date and time the clock shows now.</summary>
    public DateTime Now => _base.AddTicks(_virtualNanoseconds() / NanosecondsPerTick);

    /// <summary>
    /// Machine reset: nothing changes. CMOS RAM and the clock are battery-backed and survive, as
    /// on QEMU; QEMU's rtc_reset also clears register B's PIE/AIE/SQWE and register C's flags,
    /// which this model does not act on (no IRQ 8), and which a reset here leaves as they were.
    /// </summary>
    public void Reset()
    {
    }

    /// <summary>CMOS RAM, the clock's base date, the index register and the update-flag bookkeeping.</summary>
    public DeviceState SaveState() => new CmosRtcState([.. _cmos], _base.Ticks, _index, NmiDisabled, _updatesSeenUntil);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<CmosRtcState>(state, this);
        s.Cmos.CopyTo(_cmos, 0);
        _base = new DateTime(s.BaseTicks, DateTimeKind.Unspecified);
        _index = s.Index;
        NmiDisabled = s.NmiDisabled;
        _updatesSeenUntil = s.UpdatesSeenUntil;
    }

    public uint Read(ushort offset, int size)
    {
        if (offset == IndexOffset)
        {
            return 0xFF;
        }

        FollowCenturyAlias();
        return ReadRegister(_index);
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (offset == IndexOffset)
        {
            _index = (int)(value & IndexMask);
            NmiDisabled = (value & NmiDisableBit) != 0;
        }
        else
        {
            FollowCenturyAlias();
            WriteRegister(_index, (byte)value);
        }
    }

    /// <summary>A data access through 0x37 reaches 0x32 and leaves the index there (QEMU cmos_ioport_read/write).</summary>
    private void FollowCenturyAlias()
    {
        if (_index == Ps2Century)
        {
            _index = Century;
        }
    }

    /// <summary>Reads CMOS byte <paramref name="index"/> as the guest would (clock bytes computed).</summary>
    public byte ReadRegister(int index)
    {
        switch (index)
        {
            case Ps2Century:
                return ReadRegister(Century);
            case Seconds:
            case Minutes:
            case Hours:
            case DayOfWeek:
            case DayOfMonth:
            case Month:
            case Year:
            case Century:
                return (_cmos[RegisterB] & RegisterBSet) != 0 ? _cmos[index] : ClockField(index, Now);
            case RegisterA:
                return (byte)(_cmos[RegisterA] | (UpdateInProgress() ? RegisterAUpdateInProgress : 0));
            case RegisterC:
                NoteUpdates();
                byte flags = _cmos[RegisterC];
                _cmos[RegisterC] = 0;
                return flags;
            default:
                return _cmos[index];
        }
    }

    /// <summary>Sets CMOS byte <paramref name="index"/> directly (machine setup: boot order, CPU count, ...).</summary>
    public void SetByte(int index, byte value) => _cmos[index] = value;

    /// <summary>Fills the memory-size bytes exactly as QEMU's pc_cmos_init does.</summary>
    public void SetMemorySize(ulong belowFourGiB, ulong aboveFourGiB)
    {
        ulong baseKiB = Math.Min(belowFourGiB / KiB, BaseMemoryLimitKiB);
        SetWord(BaseMemoryLow, BaseMemoryHigh, baseKiB);

        ulong extendedKiB = belowFourGiB > MiB ? Math.Min((belowFourGiB - MiB) / KiB, MaxWord) : 0;
        SetWord(ExtendedMemoryLow, ExtendedMemoryHigh, extendedKiB);
        SetWord(ExtendedMemoryCopyLow, ExtendedMemoryCopyHigh, extendedKiB);

        ulong above16MiB = belowFourGiB > 16 * MiB ? Math.Min((belowFourGiB - (16 * MiB)) / SixtyFourKiB, MaxWord) : 0;
        SetWord(MemoryAbove16MiBLow, MemoryAbove16MiBHigh, above16MiB);

        ulong above4GiB = aboveFourGiB / SixtyFourKiB;
        _cmos[MemoryAbove4GiBLow] = (byte)above4GiB;
        _cmos[MemoryAbove4GiBMiddle] = (byte)(above4GiB >> 8);
        _cmos[MemoryAbove4GiBHigh] = (byte)(above4GiB >> 16);
    }

    private void WriteRegister(int index, byte value)
    {
        switch (index)
        {
            case Seconds:
            case Minutes:
            case Hours:
            case DayOfMonth:
            case Month:
            case Year:
            case Century:
                bool frozen = (_cmos[RegisterB] & RegisterBSet) != 0;
                if (!frozen)
                {
                    SnapshotClock();
                }

                _cmos[index] = value;
                if (!frozen)
                {
                    RestartClock();
                }

                break;
            case RegisterA:
                NoteUpdates();
                _cmos[RegisterA] = (byte)(value & ~RegisterAUpdateInProgress);
                break;
            case RegisterB:
                bool wasSet = (_cmos[RegisterB] & RegisterBSet) != 0;
                bool isSet = (value & RegisterBSet) != 0;
                if (isSet && !wasSet)
                {
                    SnapshotClock();
                }

                _cmos[RegisterB] = value;
                if (wasSet && !isSet)
                {
                    RestartClock();
                }

                break;
            case RegisterC:
            case RegisterD:
                break;
            default:
                _cmos[index] = value;
                break;
        }
    }

    private bool UpdateInProgress()
    {
        if ((_cmos[RegisterB] & RegisterBSet) != 0 || (_cmos[RegisterA] & RegisterADividerMask) != RegisterADividerNormal)
        {
            return false;
        }

        long subSecond = (Now.Ticks % TimeSpan.TicksPerSecond) * NanosecondsPerTick;
        return subSecond >= NanosecondsPerSecond - UpdateInProgressNanoseconds;
    }

    private byte ClockField(int index, DateTime t) => index switch
    {
        Seconds => ToRtc(t.Second),
        Minutes => ToRtc(t.Minute),
        Hours => EncodeHour(t.Hour),
        DayOfWeek => ToRtc((int)t.DayOfWeek + 1),
        DayOfMonth => ToRtc(t.Day),
        Month => ToRtc(t.Month),
        Year => ToRtc(t.Year % 100),
        _ => ToRtc(t.Year / 100),
    };

    private void SnapshotClock()
    {
        var t = Now;
        foreach (int index in (ReadOnlySpan<int>)[Seconds, Minutes, Hours, DayOfWeek, DayOfMonth, Month, Year, Century])
        {
            _cmos[index] = ClockField(index, t);
        }
    }

    /// <summary>
    /// Latches UF for every second boundary the clock passed since the last call (QEMU's update
    /// timer fires at each one unless the divider is held in reset). Called before anything that
    /// changes the clock's phase or the divider, and when register C is read.
    /// </summary>
    private void NoteUpdates()
    {
        long now = _virtualNanoseconds();
        bool dividerRuns = (_cmos[RegisterA] & RegisterADividerReset) != RegisterADividerReset;
        if (dividerRuns && ClockSecond(now) != ClockSecond(_updatesSeenUntil))
        {
            _cmos[RegisterC] |= RegisterCUpdateEnded;
        }

        _updatesSeenUntil = now;
    }

    private long ClockSecond(long virtualNanoseconds) =>
        (_base.Ticks + (virtualNanoseconds / NanosecondsPerTick)) / TimeSpan.TicksPerSecond;

    private void RestartClock()
    {
        int hour = DecodeHour(_cmos[Hours]);
        int year = (FromRtc(_cmos[Century]) * 100) + FromRtc(_cmos[Year]);
        int month = FromRtc(_cmos[Month]);
        int day = FromRtc(_cmos[DayOfMonth]);
        int minute = FromRtc(_cmos[Minutes]);
        int second = FromRtc(_cmos[Seconds]);
        if (year < 1 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return;
        }

        var set = new DateTime(year, month, day, hour, minute, second);
        NoteUpdates();
        _base = set.AddTicks(-(_virtualNanoseconds() / NanosecondsPerTick));
    }

    private byte EncodeHour(int hour)
    {
        if ((_cmos[RegisterB] & RegisterB24Hour) != 0)
        {
            return ToRtc(hour);
        }

        int twelve = hour % 12 == 0 ? 12 : hour % 12;
        return (byte)(ToRtc(twelve) | (hour >= 12 ? HourPm : 0));
    }

    private int DecodeHour(byte value)
    {
        if ((_cmos[RegisterB] & RegisterB24Hour) != 0)
        {
            return FromRtc(value);
        }

        int twelve = FromRtc((byte)(value & ~HourPm)) % 12;
        return (value & HourPm) != 0 ? twelve + 12 : twelve;
    }

    private byte ToRtc(int value) =>
        (_cmos[RegisterB] & RegisterBBinary) != 0 ? (byte)value : (byte)(((value / 10) << 4) | (value % 10));

    private int FromRtc(byte value) =>
        (_cmos[RegisterB] & RegisterBBinary) != 0 ? value : ((value >> 4) * 10) + (value & 0xF);

    private void SetWord(int low, int high, ulong value)
    {
        _cmos[low] = (byte)value;
        _cmos[high] = (byte)(value >> 8);
    }
}

/// <summary>
/// The 128 CMOS bytes (clock bytes hold what SET froze), the date the clock shows at virtual time
/// 0 (DateTime ticks), the selected index, the NMI-disable bit, and the virtual time up to which
/// register C's update flag accounts for second boundaries.
/// </summary>
public sealed record CmosRtcState(byte[] Cmos, long BaseTicks, int Index, bool NmiDisabled, long UpdatesSeenUntil) : DeviceState;
