// Local APIC in xAPIC mode (Intel SDM vol. 3A ch. 11) as QEMU's hw/intc/apic.c presents it
// to one CPU. Address: 4 KiB of MMIO at IA32_APIC_BASE (0xFEE00000 after reset); registers are
// 32 bits wide at 16-byte-aligned offsets.
// Emulated: ID (0x20, writable), version (0x30 = 0x00050014: version 0x14, 6 LVT entries),
// TPR, APR (reads 0), PPR (computed), EOI (clears the highest ISR bit; when that vector's TMR bit
// is set, the EOI is broadcast to the I/O APIC, as QEMU's apic_eoi calls ioapic_eoi_broadcast),
// LDR, DFR (reset all-ones), SVR (reset 0xFF; bit 8 = software enable: while clear no interrupt
// is delivered, as QEMU's apic_irq_pending), ISR/TMR/IRR (8 registers each), ESR (no errors are
// detected, reads 0), ICR low/high (IPIs to this CPU — self, all-including-self or a physical
// or logical destination matching it: fixed ones set IRR, SMI and NMI ones reach the CPU's SMI
// and NMI inputs; INIT, SIPI and IPIs to other CPUs are accepted and dropped),
// LVT timer/thermal/performance/LINT0/LINT1/error (reset masked), initial count, current count
// (computed from virtual time), divide configuration. The timer runs on the Scheduler in
// virtual time: deadlines at multiples of initial count × divisor APIC clock ticks after the
// initial-count write (the SDM's count-down to zero; QEMU fires one tick later, at initial
// count + 1), periodic mode re-arms without drift, one-shot stops, a masked LVT counts without
// interrupting. Interrupt acceptance as IInterruptController: pending = highest IRR vector whose
// priority class is above PPR (TPR and highest ISR); Acknowledge moves it to ISR (spurious vector
// from SVR when none is pending). External interrupts (LINT0 ExtINT from the PIC) enter
// through Raise(vector); I/O APIC messages through Accept, addressed the way QEMU's
// apic_get_delivery_bitmask matches them (physical: this APIC's ID or the broadcast 0xFF;
// logical: LDR under the flat or cluster model of DFR). Fixed, lowest-priority (one CPU: this
// one) and ExtINT messages (the I/O APIC already took the vector from the PIC) set IRR, and TMR
// for level-triggered ones; NMI and SMI messages go to the CPU's NMI and SMI inputs.
// Not emulated: x2APIC, TSC-deadline mode, arbitration, INIT messages (the CPU model has no INIT
// input: dropped), NMI/SMI/INIT delivery through LVTs, error detection (illegal
// vectors are dropped), focus processor checking, more than one CPU.
// Firmware relies on: OVMF's timer (LocalApicTimerDxe): divide by 1, periodic, vector 0x20,
// initial count 10,000,000 at QEMU's 1 GHz APIC clock (100 Hz), EOI from the ISR; SVR enable
// and LINT0/LINT1 programming for virtual-wire mode (CpuMpPei).
using Emulator.Core.Cpu;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Devices.LocalApic;

/// <summary>The local APIC of the (single) CPU: registers, timer and interrupt acceptance.</summary>
public sealed class Xapic : IMmioDevice, IInterruptController, IDevice
{
    public const ulong DefaultBase = 0xFEE0_0000;
    public const ulong Size = 0x1000;

    public const int IdRegister = 0x020;
    public const int VersionRegister = 0x030;
    public const int TaskPriorityRegister = 0x080;
    public const int ArbitrationPriorityRegister = 0x090;
    public const int ProcessorPriorityRegister = 0x0A0;
    public const int EoiRegister = 0x0B0;
    public const int LogicalDestinationRegister = 0x0D0;
    public const int DestinationFormatRegister = 0x0E0;
    public const int SpuriousVectorRegister = 0x0F0;
    public const int IsrBase = 0x100;
    public const int TmrBase = 0x180;
    public const int IrrBase = 0x200;
    public const int ErrorStatusRegister = 0x280;
    public const int IcrLowRegister = 0x300;
    public const int IcrHighRegister = 0x310;
    public const int LvtTimerRegister = 0x320;
    public const int LvtThermalRegister = 0x330;
    public const int LvtPerformanceRegister = 0x340;
    public const int LvtLint0Register = 0x350;
    public const int LvtLint1Register = 0x360;
    public const int LvtErrorRegister = 0x370;
    public const int InitialCountRegister = 0x380;
    public const int CurrentCountRegister = 0x390;
    public const int DivideConfigurationRegister = 0x3E0;

    public const uint Version = 0x0005_0014;
    public const int IdShift = 24;
    public const uint SvrSoftwareEnable = 0x100;
    public const uint SvrVectorMask = 0xFF;
    public const uint SvrWritableMask = 0x1FF;
    public const uint SvrReset = 0xFF;
    public const uint DfrReset = 0xFFFF_FFFF;
    public const uint LvtVectorMask = 0xFF;
    public const uint LvtDeliveryModeMask = 0x700;
    public const uint LvtInputPolarity = 0x2000;
    public const uint LvtTriggerLevel = 0x8000;
    public const uint LvtMasked = 0x1_0000;
    public const uint LvtTimerPeriodic = 0x2_0000;
    public const uint IcrVectorMask = 0xFF;
    public const uint IcrDeliveryModeMask = 0x700;
    public const uint IcrDeliveryFixed = 0x000;
    public const uint IcrLogicalDestination = 0x800;
    public const int IcrShorthandShift = 18;
    public const uint IcrShorthandMask = 0x3;
    public const uint IcrShorthandNone = 0;
    public const uint IcrShorthandSelf = 1;
    public const uint IcrShorthandAllIncludingSelf = 2;
    public const uint DivideConfigurationMask = 0xB;
    public const int FirstValidVector = 16;
    public const byte BroadcastDestination = 0xFF;
    public const uint DfrFlatModel = 0xF;
    public const int DfrModelShift = 28;
    public const uint LogicalClusterMask = 0xF0;
    public const uint LogicalMemberMask = 0x0F;

    private const int RegisterShift = 4;
    private const int VectorRegisterCount = 8;
    private const int BitsPerRegister = 32;
    private const int LvtCount = 6;
    private const int LvtTimer = 0;
    private const int PriorityClassShift = 4;
    private const uint PriorityClassMask = 0xF0;
    private const uint TimerWritableMask = LvtVectorMask | LvtMasked | LvtTimerPeriodic;
    private const uint LintWritableMask = LvtVectorMask | LvtDeliveryModeMask | LvtInputPolarity | LvtTriggerLevel | LvtMasked;
    private const uint OtherLvtWritableMask = LvtVectorMask | LvtDeliveryModeMask | LvtMasked;

    private readonly Scheduler _scheduler;
    private readonly Func<long> _now;
    private readonly long _schedulerTicks;
    private readonly long _apicTicks;
    private readonly uint[] _isr = new uint[VectorRegisterCount];
    private readonly uint[] _tmr = new uint[VectorRegisterCount];
    private readonly uint[] _irr = new uint[VectorRegisterCount];
    private readonly uint[] _lvt = new uint[LvtCount];
    private uint _tpr;
    private uint _ldr;
    private uint _dfr = DfrReset;
    private uint _svr = SvrReset;
    private uint _icrLow;
    private uint _icrHigh;
    private uint _divideConfiguration;
    private int _divideShift;
    private uint _initialCount;
    private long _loadTime;
    private TimerEvent? _timerEvent;

    /// <param name="scheduler">Where the timer deadlines go.</param>
    /// <param name="now">The current virtual time in scheduler ticks.</param>
    /// <param name="schedulerTicks">With <paramref name="apicTicks"/>: the APIC timer clock runs
    /// <paramref name="apicTicks"/> ticks per <paramref name="schedulerTicks"/> scheduler ticks
    /// (1 and 1 when scheduler ticks are nanoseconds and the APIC clock is QEMU's 1 GHz).</param>
    /// <param name="apicTicks">See <paramref name="schedulerTicks"/>.</param>
    /// <param name="id">The APIC ID.</param>
    public Xapic(Scheduler scheduler, Func<long> now, long schedulerTicks, long apicTicks, byte id = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(schedulerTicks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(apicTicks);
        _scheduler = scheduler;
        _now = now;
        _schedulerTicks = schedulerTicks;
        _apicTicks = apicTicks;
        Id = id;
        Array.Fill(_lvt, LvtMasked);
        SetDivideConfiguration(0);
    }

    public string Name => "local-apic";

    /// <summary>
    /// INIT/RESET state (SDM Vol. 3 §10.4.7.1, QEMU apic_reset_common): no request in service or
    /// pending, TPR 0, LDR 0, DFR all-ones, SVR 0xFF (software-disabled), every LVT masked, the
    /// timer stopped with divide-by-2; the APIC ID is kept.
    /// </summary>
    public void Reset()
    {
        CancelTimer();
        Array.Clear(_isr);
        Array.Clear(_tmr);
        Array.Clear(_irr);
        Array.Fill(_lvt, LvtMasked);
        _tpr = 0;
        _ldr = 0;
        _dfr = DfrReset;
        _svr = SvrReset;
        _icrLow = 0;
        _icrHigh = 0;
        _initialCount = 0;
        _loadTime = 0;
        SetDivideConfiguration(0);
    }

    public byte Id { get; private set; }

    /// <summary>Every register, the timer's load time and its next deadline (QEMU vmstate "apic" with next_time).</summary>
    public DeviceState SaveState() => new XapicState(
        Id, [.. _isr], [.. _tmr], [.. _irr], [.. _lvt], _tpr, _ldr, _dfr, _svr, _icrLow, _icrHigh,
        _divideConfiguration, _initialCount, _loadTime, _timerEvent?.When);

    /// <summary>Restores the registers and re-arms the timer at its recorded deadline; the machine tells the CPU to look for interrupts.</summary>
    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<XapicState>(state, this);
        CancelTimer();
        Id = s.Id;
        s.Isr.CopyTo(_isr, 0);
        s.Tmr.CopyTo(_tmr, 0);
        s.Irr.CopyTo(_irr, 0);
        s.Lvt.CopyTo(_lvt, 0);
        _tpr = s.Tpr;
        _ldr = s.Ldr;
        _dfr = s.Dfr;
        _svr = s.Svr;
        _icrLow = s.IcrLow;
        _icrHigh = s.IcrHigh;
        SetDivideConfiguration(s.DivideConfiguration);
        _initialCount = s.InitialCount;
        _loadTime = s.LoadTime;
        if (s.TimerDeadline is { } deadline)
        {
            _timerEvent = _scheduler.Schedule(deadline, OnTimer);
        }
    }

    public bool SoftwareEnabled => (_svr & SvrSoftwareEnable) != 0;

    public bool HasPendingInterrupt => PendingVector() >= 0;

    /// <summary>
    /// The EOI broadcast for a level-triggered vector (its TMR bit set when EOI cleared it from
    /// ISR): the machine connects it to the I/O APIC's end-of-interrupt input. Unconnected (no
    /// I/O APIC), the EOI only clears ISR.
    /// </summary>
    public Action<int>? LevelTriggeredEoi { get; set; }

    /// <summary>An NMI message reached this APIC: the machine connects it to the CPU's NMI input (QEMU cpu_interrupt NMI).</summary>
    public Action? NmiRaised { get; set; }

    /// <summary>An SMI message or IPI reached this APIC: the machine connects it to the CPU's SMI input (QEMU apic_bus_deliver, APIC_DM_SMI).</summary>
    public Action? SmiRaised { get; set; }

    public ulong Read(ulong offset, int size)
    {
        uint value = ReadRegister((int)(offset & ~0xFUL));
        int shift = 8 * (int)(offset & 3);
        return (value >> shift) & (uint)PhysicalBus.SizeMask(Math.Min(size, 4));
    }

    public void Write(ulong offset, int size, ulong value)
    {
        if ((offset & 0xF) == 0 && size >= 4)
        {
            WriteRegister((int)offset, (uint)value);
        }
    }

    /// <summary>Requests interrupt <paramref name="vector"/> (fixed delivery, edge); vectors below 16 are dropped.</summary>
    public void Raise(int vector) => Request(vector, levelTriggered: false);

    /// <summary>
    /// An interrupt message from the APIC bus (an I/O APIC redirection entry), taken when its
    /// destination selects this APIC (QEMU apic_deliver_irq / apic_bus_deliver).
    /// </summary>
    public void Accept(InterruptMessage message)
    {
        if (!IsDestination(message.Destination, message.LogicalDestination))
        {
            return;
        }

        switch (message.DeliveryMode)
        {
            case ApicDeliveryMode.Fixed:
            case ApicDeliveryMode.LowestPriority:
            case ApicDeliveryMode.ExtInt:
                Request(message.Vector, message.LevelTriggered);
                break;
            case ApicDeliveryMode.Nmi:
                NmiRaised?.Invoke();
                break;
            case ApicDeliveryMode.Smi:
                SmiRaised?.Invoke();
                break;
        }
    }

    public int Acknowledge()
    {
        int vector = PendingVector();
        if (vector < 0)
        {
            return (int)(_svr & SvrVectorMask);
        }

        ClearBit(_irr, vector);
        SetBit(_isr, vector);
        return vector;
    }

    private uint ReadRegister(int register)
    {
        switch (register)
        {
            case IdRegister:
                return (uint)Id << IdShift;
            case VersionRegister:
                return Version;
            case TaskPriorityRegister:
                return _tpr;
            case ProcessorPriorityRegister:
                return ProcessorPriority();
            case LogicalDestinationRegister:
                return _ldr;
            case DestinationFormatRegister:
                return _dfr;
            case SpuriousVectorRegister:
                return _svr;
            case >= IsrBase and < TmrBase:
                return _isr[(register - IsrBase) >> RegisterShift];
            case >= TmrBase and < IrrBase:
                return _tmr[(register - TmrBase) >> RegisterShift];
            case >= IrrBase and < ErrorStatusRegister:
                return _irr[(register - IrrBase) >> RegisterShift];
            case IcrLowRegister:
                return _icrLow;
            case IcrHighRegister:
                return _icrHigh;
            case >= LvtTimerRegister and <= LvtErrorRegister:
                return _lvt[(register - LvtTimerRegister) >> RegisterShift];
            case InitialCountRegister:
                return _initialCount;
            case CurrentCountRegister:
                return CurrentCount();
            case DivideConfigurationRegister:
                return _divideConfiguration;
            default:
                return 0;
        }
    }

    private void WriteRegister(int register, uint value)
    {
        switch (register)
        {
            case IdRegister:
                Id = (byte)(value >> IdShift);
                break;
            case TaskPriorityRegister:
                _tpr = value & byte.MaxValue;
                break;
            case EoiRegister:
                int inService = Highest(_isr);
                if (inService >= 0)
                {
                    ClearBit(_isr, inService);
                    if (TestBit(_tmr, inService))
                    {
                        LevelTriggeredEoi?.Invoke(inService);
                    }
                }

                break;
            case LogicalDestinationRegister:
                _ldr = value & ((uint)byte.MaxValue << IdShift);
                break;
            case DestinationFormatRegister:
                _dfr = value | ~(0xFu << 28);
                break;
            case SpuriousVectorRegister:
                _svr = value & SvrWritableMask;
                break;
            case IcrLowRegister:
                _icrLow = value;
                SendIpi();
                break;
            case IcrHighRegister:
                _icrHigh = value;
                break;
            case LvtTimerRegister:
                _lvt[LvtTimer] = value & TimerWritableMask;
                RestartTimer();
                break;
            case LvtLint0Register:
            case LvtLint1Register:
                _lvt[(register - LvtTimerRegister) >> RegisterShift] = value & LintWritableMask;
                break;
            case LvtThermalRegister:
            case LvtPerformanceRegister:
            case LvtErrorRegister:
                _lvt[(register - LvtTimerRegister) >> RegisterShift] = value & OtherLvtWritableMask;
                break;
            case InitialCountRegister:
                _initialCount = value;
                _loadTime = _now();
                RestartTimer();
                break;
            case DivideConfigurationRegister:
                SetDivideConfiguration(value);
                RestartTimer();
                break;
        }
    }

    /// <summary>
    /// An IPI from the ICR, as QEMU's apic_deliver sends it on one CPU: fixed IPIs set IRR, SMI and
    /// NMI IPIs reach the CPU's inputs (PiSmmCpuDxeSmm relocates SMBASE with an SMI to itself),
    /// when the shorthand or the destination (physical or logical, ICR bit 11) selects this APIC;
    /// INIT and SIPI have no second CPU to go to.
    /// </summary>
    private void SendIpi()
    {
        uint shorthand = (_icrLow >> IcrShorthandShift) & IcrShorthandMask;
        bool toSelf = shorthand == IcrShorthandSelf
            || shorthand == IcrShorthandAllIncludingSelf
            || (shorthand == IcrShorthandNone && IsDestination((byte)(_icrHigh >> IdShift), (_icrLow & IcrLogicalDestination) != 0));
        if (!toSelf)
        {
            return;
        }

        switch ((ApicDeliveryMode)((_icrLow & IcrDeliveryModeMask) >> 8))
        {
            case ApicDeliveryMode.Fixed:
                Raise((int)(_icrLow & IcrVectorMask));
                break;
            case ApicDeliveryMode.Smi:
                SmiRaised?.Invoke();
                break;
            case ApicDeliveryMode.Nmi:
                NmiRaised?.Invoke();
                break;
        }
    }

    /// <summary>Sets IRR, and TMR to the trigger mode (QEMU apic_set_irq); vectors below 16 are dropped.</summary>
    private void Request(int vector, bool levelTriggered)
    {
        if (vector < FirstValidVector || vector > byte.MaxValue)
        {
            return;
        }

        SetBit(_irr, vector);
        if (levelTriggered)
        {
            SetBit(_tmr, vector);
        }
        else
        {
            ClearBit(_tmr, vector);
        }
    }

    /// <summary>QEMU apic_get_delivery_bitmask for this one APIC.</summary>
    private bool IsDestination(byte destination, bool logical)
    {
        if (!logical)
        {
            return destination == BroadcastDestination || destination == Id;
        }

        uint logicalId = _ldr >> IdShift;
        uint model = _dfr >> DfrModelShift;
        if (model == DfrFlatModel)
        {
            return (destination & logicalId) != 0;
        }

        return model == 0
            && (destination & LogicalClusterMask) == (logicalId & LogicalClusterMask)
            && (destination & logicalId & LogicalMemberMask) != 0;
    }

    private void SetDivideConfiguration(uint value)
    {
        _divideConfiguration = value & DivideConfigurationMask;
        uint code = (value & 3) | ((value >> 1) & 4);
        _divideShift = (int)((code + 1) & 7);
    }

    private uint ProcessorPriority()
    {
        int inService = Highest(_isr);
        uint isrClass = inService < 0 ? 0 : (uint)inService & PriorityClassMask;
        return (_tpr & PriorityClassMask) >= isrClass ? _tpr : isrClass;
    }

    private int PendingVector()
    {
        if (!SoftwareEnabled)
        {
            return -1;
        }

        int vector = Highest(_irr);
        if (vector < 0)
        {
            return -1;
        }

        uint ppr = ProcessorPriority();
        return ((uint)vector >> PriorityClassShift) > (ppr >> PriorityClassShift) ? vector : -1;
    }

    private long TimerCountsAt(long time) =>
        (long)((Int128)(time - _loadTime) * _apicTicks / _schedulerTicks) >> _divideShift;

    private uint CurrentCount()
    {
        if (_initialCount == 0)
        {
            return 0;
        }

        long counts = TimerCountsAt(_now());
        if ((_lvt[LvtTimer] & LvtTimerPeriodic) != 0)
        {
            return _initialCount - (uint)(counts % _initialCount);
        }

        return counts >= _initialCount ? 0 : _initialCount - (uint)counts;
    }

    private void RestartTimer()
    {
        CancelTimer();
        ArmTimer(_now());
    }

    private void CancelTimer()
    {
        if (_timerEvent != null)
        {
            _scheduler.Cancel(_timerEvent);
            _timerEvent = null;
        }
    }

    /// <summary>Schedules the first expiry strictly after the counter state at <paramref name="time"/>.</summary>
    private void ArmTimer(long time)
    {
        if (_initialCount == 0)
        {
            return;
        }

        long counts = TimerCountsAt(time);
        long target;
        if ((_lvt[LvtTimer] & LvtTimerPeriodic) != 0)
        {
            target = ((counts / _initialCount) + 1) * _initialCount;
        }
        else if (counts < _initialCount)
        {
            target = _initialCount;
        }
        else
        {
            return;
        }

        Int128 apicTicks = (Int128)target << _divideShift;
        long deadline = _loadTime + (long)(((apicTicks * _schedulerTicks) + _apicTicks - 1) / _apicTicks);
        _timerEvent = _scheduler.Schedule(deadline, OnTimer);
    }

    private void OnTimer(long when)
    {
        _timerEvent = null;
        uint lvt = _lvt[LvtTimer];
        if ((lvt & LvtMasked) == 0)
        {
            Raise((int)(lvt & LvtVectorMask));
        }

        ArmTimer(when);
    }

    private static int Highest(uint[] bits)
    {
        for (int i = VectorRegisterCount - 1; i >= 0; i--)
        {
            if (bits[i] != 0)
            {
                return (i * BitsPerRegister) + (BitsPerRegister - 1 - System.Numerics.BitOperations.LeadingZeroCount(bits[i]));
            }
        }

        return -1;
    }

    private static void SetBit(uint[] bits, int vector) => bits[vector / BitsPerRegister] |= 1u << (vector % BitsPerRegister);

    private static bool TestBit(uint[] bits, int vector) => (bits[vector / BitsPerRegister] & (1u << (vector % BitsPerRegister))) != 0;

    private static void ClearBit(uint[] bits, int vector) => bits[vector / BitsPerRegister] &= ~(1u << (vector % BitsPerRegister));
}

/// <summary>
/// A local APIC's registers (ISR, TMR and IRR as 8 dwords each, the 6 LVT entries), the timer's
/// divide configuration, initial count and load time, and its next deadline (null when stopped).
/// </summary>
public sealed record XapicState(
    byte Id, uint[] Isr, uint[] Tmr, uint[] Irr, uint[] Lvt, uint Tpr, uint Ldr, uint Dfr, uint Svr, uint IcrLow, uint IcrHigh,
    uint DivideConfiguration, uint InitialCount, long LoadTime, long? TimerDeadline) : DeviceState;
