// One Intel 8259A programmable interrupt controller (Intel 8259A datasheet, order 231468).
// Addresses: master 0x20/0x21, slave 0xA0/0xA1 (2 ports each); wired together by DualPic.
// Emulated (following QEMU's hw/intc/i8259.c): ICW1–ICW4 initialisation (single/cascade,
// ICW4 needed, auto-EOI, special fully nested), IMR (OCW1), OCW2 EOI commands (non-specific,
// specific, rotate on non-specific/specific EOI, set priority, rotate in auto-EOI mode), OCW3
// (read IRR/ISR select, poll, special mask), edge/level triggering from the ELCR, rotating
// priority, interrupt acknowledge.
// Not emulated: 8080/8085 call-address mode (ICW1 bits 2/5–7), buffered mode, the LTIM bit of
// ICW1 (the PIIX3 uses the ELCR instead, as QEMU does).
// Firmware relies on: OVMF only writes 0xFF to both IMRs (ports 0x21 and 0xA1).
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Pic8259;

/// <summary>One 8259A. DualPic cascades a master and a slave and computes the CPU's INTR line.</summary>
public sealed class Pic : IPortDevice, IDevice
{
    public const int PortCount = 2;
    public const ushort CommandOffset = 0;
    public const ushort DataOffset = 1;

    public const byte Icw1Ic4 = 0x01;
    public const byte Icw1Single = 0x02;
    public const byte Icw1Init = 0x10;
    public const byte Icw4AutoEoi = 0x02;
    public const byte Icw4SpecialFullyNested = 0x10;
    public const byte Ocw3Select = 0x08;
    public const byte Ocw3ReadRegister = 0x02;
    public const byte Ocw3ReadIsr = 0x01;
    public const byte Ocw3Poll = 0x04;
    public const byte Ocw3SpecialMaskEnable = 0x40;
    public const byte Ocw3SpecialMask = 0x20;
    public const byte PollInterruptFlag = 0x80;
    public const byte VectorBaseMask = 0xF8;
    public const int CascadeIrq = 2;

    private const int Ocw2CommandShift = 5;
    private const int Ocw2RotateInAutoEoiClear = 0;
    private const int Ocw2NonSpecificEoi = 1;
    private const int Ocw2SpecificEoi = 3;
    private const int Ocw2RotateInAutoEoiSet = 4;
    private const int Ocw2RotateNonSpecificEoi = 5;
    private const int Ocw2SetPriority = 6;
    private const int Ocw2RotateSpecificEoi = 7;
    private const int Ocw2LevelMask = 7;
    private const int NoPriority = 8;

    private readonly bool _isMaster;
    private byte _lastIrr;
    private byte _priorityAdd;
    private bool _readIsr;
    private bool _poll;
    private bool _specialMask;
    private int _initState;
    private bool _autoEoi;
    private bool _rotateOnAutoEoi;
    private bool _specialFullyNested;
    private bool _needIcw4;
    private bool _single;

    internal Pic(bool isMaster, byte elcrMask)
    {
        _isMaster = isMaster;
        ElcrMask = elcrMask;
    }

    public string Name => _isMaster ? "pic-master" : "pic-slave";

    public byte Irr { get; private set; }

    public byte Isr { get; private set; }

    public byte Imr { get; private set; }

    public byte VectorBase { get; private set; }

    /// <summary>Edge/level control: a set bit makes that input level-triggered.</summary>
    public byte Elcr { get; internal set; }

    /// <summary>The ELCR bits that exist (QEMU: 0xF8 on the master, 0xDE on the slave).</summary>
    public byte ElcrMask { get; }

    /// <summary>Called after any change that may alter the INTR output.</summary>
    internal Action? Changed { get; set; }

    public uint Read(ushort offset, int size)
    {
        if (offset == DataOffset)
        {
            return Imr;
        }

        if (_poll)
        {
            _poll = false;
            int irq = HighestPending();
            if (irq < 0)
            {
                return 0;
            }

            Acknowledge(irq);
            Changed?.Invoke();
            return (uint)(irq | PollInterruptFlag);
        }

        return _readIsr ? Isr : Irr;
    }

    public void Write(ushort offset, int size, uint value)
    {
        byte v = (byte)value;
        if (offset == DataOffset)
        {
            WriteData(v);
        }
        else if ((v & Icw1Init) != 0)
        {
            InitReset();
            _initState = 1;
            _needIcw4 = (v & Icw1Ic4) != 0;
            _single = (v & Icw1Single) != 0;
        }
        else if ((v & Ocw3Select) != 0)
        {
            _poll = (v & Ocw3Poll) != 0;
            if ((v & Ocw3ReadRegister) != 0)
            {
                _readIsr = (v & Ocw3ReadIsr) != 0;
            }

            if ((v & Ocw3SpecialMaskEnable) != 0)
            {
                _specialMask = (v & Ocw3SpecialMask) != 0;
            }
        }
        else
        {
            WriteOcw2(v);
        }

        Changed?.Invoke();
    }

    /// <summary>Sets the level of input <paramref name="irq"/> (0–7).</summary>
    internal void SetIrq(int irq, bool level)
    {
        byte mask = (byte)(1 << irq);
        if ((Elcr & mask) != 0)
        {
            Irr = level ? (byte)(Irr | mask) : (byte)(Irr & ~mask);
        }
        else if (level && (_lastIrr & mask) == 0)
        {
            Irr |= mask;
        }

        _lastIrr = level ? (byte)(_lastIrr | mask) : (byte)(_lastIrr & ~mask);
    }

    /// <summary>The input that would be delivered now (IRR unmasked, above the in-service priority), or -1.</summary>
    internal int HighestPending()
    {
        int priority = Priority((byte)(Irr & ~Imr));
        if (priority == NoPriority)
        {
            return -1;
        }

        byte inService = Isr;
        if (_specialMask)
        {
            inService &= (byte)~Imr;
        }

        if (_specialFullyNested && _isMaster)
        {
            inService &= unchecked((byte)~(1 << CascadeIrq));
        }

        return priority < Priority(inService) ? (priority + _priorityAdd) & Ocw2LevelMask : -1;
    }

    /// <summary>The INTA cycle for input <paramref name="irq"/>: in-service (or auto-EOI), edge request consumed.</summary>
    internal void Acknowledge(int irq)
    {
        byte mask = (byte)(1 << irq);
        if (_autoEoi)
        {
            if (_rotateOnAutoEoi)
            {
                _priorityAdd = (byte)((irq + 1) & Ocw2LevelMask);
            }
        }
        else
        {
            Isr |= mask;
        }

        if ((Elcr & mask) == 0)
        {
            Irr &= (byte)~mask;
        }
    }

    private void WriteData(byte v)
    {
        switch (_initState)
        {
            case 0:
                Imr = v;
                break;
            case 1:
                VectorBase = (byte)(v & VectorBaseMask);
                _initState = _single ? (_needIcw4 ? 3 : 0) : 2;
                break;
            case 2:
                _initState = _needIcw4 ? 3 : 0;
                break;
            default:
                _specialFullyNested = (v & Icw4SpecialFullyNested) != 0;
                _autoEoi = (v & Icw4AutoEoi) != 0;
                _initState = 0;
                break;
        }
    }

    private void WriteOcw2(byte v)
    {
        int command = v >> Ocw2CommandShift;
        int level = v & Ocw2LevelMask;
        switch (command)
        {
            case Ocw2RotateInAutoEoiClear:
            case Ocw2RotateInAutoEoiSet:
                _rotateOnAutoEoi = command == Ocw2RotateInAutoEoiSet;
                break;
            case Ocw2NonSpecificEoi:
            case Ocw2RotateNonSpecificEoi:
                int priority = Priority(Isr);
                if (priority != NoPriority)
                {
                    int irq = (priority + _priorityAdd) & Ocw2LevelMask;
                    Isr &= (byte)~(1 << irq);
                    if (command == Ocw2RotateNonSpecificEoi)
                    {
                        _priorityAdd = (byte)((irq + 1) & Ocw2LevelMask);
                    }
                }

                break;
            case Ocw2SpecificEoi:
                Isr &= (byte)~(1 << level);
                break;
            case Ocw2SetPriority:
                _priorityAdd = (byte)((level + 1) & Ocw2LevelMask);
                break;
            case Ocw2RotateSpecificEoi:
                Isr &= (byte)~(1 << level);
                _priorityAdd = (byte)((level + 1) & Ocw2LevelMask);
                break;
        }
    }

    private int Priority(byte mask)
    {
        if (mask == 0)
        {
            return NoPriority;
        }

        int priority = 0;
        while ((mask & (1 << ((priority + _priorityAdd) & Ocw2LevelMask))) == 0)
        {
            priority++;
        }

        return priority;
    }

    /// <summary>Machine reset (QEMU i8259 pic_reset): ELCR cleared, then the initialisation reset.</summary>
    public void Reset()
    {
        Elcr = 0;
        InitReset();
    }

    /// <summary>Every register, the edge detector's last input levels and the initialisation sequence (QEMU vmstate "i8259").</summary>
    public DeviceState SaveState() => new PicState(
        Irr, Isr, Imr, VectorBase, Elcr, _lastIrr, _priorityAdd, _readIsr, _poll, _specialMask, _initState,
        _autoEoi, _rotateOnAutoEoi, _specialFullyNested, _needIcw4, _single);

    /// <summary>Restores the registers; the pair (<see cref="DualPic"/>) restores its INTR level.</summary>
    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<PicState>(state, this);
        Irr = s.Irr;
        Isr = s.Isr;
        Imr = s.Imr;
        VectorBase = s.VectorBase;
        Elcr = s.Elcr;
        _lastIrr = s.LastIrr;
        _priorityAdd = s.PriorityAdd;
        _readIsr = s.ReadIsr;
        _poll = s.Poll;
        _specialMask = s.SpecialMask;
        _initState = s.InitState;
        _autoEoi = s.AutoEoi;
        _rotateOnAutoEoi = s.RotateOnAutoEoi;
        _specialFullyNested = s.SpecialFullyNested;
        _needIcw4 = s.NeedIcw4;
        _single = s.Single;
    }

    /// <summary>Initialisation reset (ICW1; QEMU pic_init_reset): masks and requests cleared, ELCR kept.</summary>
    private void InitReset()
    {
        _lastIrr = 0;
        Irr &= Elcr;
        Imr = 0;
        Isr = 0;
        _priorityAdd = 0;
        VectorBase = 0;
        _readIsr = false;
        _poll = false;
        _specialMask = false;
        _initState = 0;
        _autoEoi = false;
        _rotateOnAutoEoi = false;
        _specialFullyNested = false;
        _needIcw4 = false;
        _single = false;
    }
}

/// <summary>One 8259A: IRR, ISR, IMR, vector base, ELCR, last input levels, rotation and the ICW/OCW3 mode bits.</summary>
public sealed record PicState(
    byte Irr, byte Isr, byte Imr, byte VectorBase, byte Elcr, byte LastIrr, byte PriorityAdd, bool ReadIsr, bool Poll,
    bool SpecialMask, int InitState, bool AutoEoi, bool RotateOnAutoEoi, bool SpecialFullyNested, bool NeedIcw4, bool Single) : DeviceState;
