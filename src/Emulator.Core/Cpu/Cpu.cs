using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Cpu;

/// <summary>
/// One x86-64 logical processor: architectural state plus the interpreter. The partial files
/// split it by concern: state and reset (here), flags, segmentation, address translation,
/// block decoding, the run loop, exception delivery, and the instruction handler families in
/// <c>Handlers/</c>. Everything the hot path touches is a field of this sealed class.
/// </summary>
public sealed unsafe partial class Cpu
{
    internal GprFile _gpr;
    internal ulong _rip;

    /// <summary>Address of the next instruction while a control-transfer handler runs (the last of its block); it overwrites it.</summary>
    internal ulong _nextRip;

    /// <summary>RFLAGS with the arithmetic bits valid only when <see cref="_lazy"/> is none.</summary>
    internal ulong _flags = RFlags.Reserved1;

    internal SegmentFile _seg;
    internal SegmentBases _segBase;
    internal TableRegister _gdtr;
    internal TableRegister _idtr;
    internal SegmentRegister _ldtr;
    internal SegmentRegister _tr;

    internal ulong _cr0;
    internal ulong _cr2;
    internal ulong _cr3;
    internal ulong _cr4;
    internal ulong _cr8;
    internal ulong _efer;
    internal readonly ulong[] _dr = new ulong[8];

    /// <summary>16, 32 or 64: the effective code size from CR0.PE, EFER.LMA, CS.L and CS.D.</summary>
    internal int _bitness = 16;

    /// <summary>Stack address size in bytes (2, 4 or 8) from SS.B or long mode.</summary>
    internal int _stackSize = 2;

    internal int _cpl;

    internal bool _exitBlock;

    private readonly PhysicalBus _bus;
    private readonly PortBus _ports;

    public Cpu(PhysicalBus bus, PortBus ports, CpuModel? model = null)
    {
        _bus = bus;
        _ports = ports;
        Model = model ?? CpuModel.Qemu64;
        Msrs = new MsrFile(this);
        Fpu = new FpuState();
        _reader = new LinearCodeReader(this);
        _bus.MappingChanged += FlushTlb;
        _bus.CodePageWritten += InvalidateCodePage;
        Reset();
    }

    public PhysicalBus Bus => _bus;

    public PortBus Ports => _ports;

    public CpuModel Model { get; }

    public MsrFile Msrs { get; }

    public FpuState Fpu { get; }

    /// <summary>Instructions retired since reset (a REP string instruction counts once).</summary>
    public long InstructionCount { get; internal set; }

    /// <summary>Extra iterations of REP string instructions beyond the first: part of virtual time, not of the index.</summary>
    public long RepIterations { get; internal set; }

    public ulong Rip => _rip;

    public int Bitness => _bitness;

    public int Cpl => _cpl;

    public ulong Cr0 => _cr0;

    public ulong Cr2 => _cr2;

    public ulong Cr3 => _cr3;

    public ulong Cr4 => _cr4;

    public ulong Efer => _efer;

    public ulong GetGpr(int index) => _gpr[index];

    public void SetGpr(int index, ulong value) => _gpr[index] = value;

    /// <summary>RFLAGS as PUSHF would store it (for tools: a debugger's register view).</summary>
    public ulong FlagsRegister => GetFlags();

    /// <summary>A debugger sets RIP between runs; the next run decodes from there.</summary>
    public void SetRipForDebugger(ulong rip)
    {
        _rip = rip;
        _exitBlock = true;
    }

    /// <summary>A debugger sets RFLAGS between runs (reserved bits as POPF's path leaves them).</summary>
    public void SetRFlagsForDebugger(ulong flags)
    {
        SetFlags(flags);
        _exitBlock = true;
    }

    public SegmentRegister GetSegment(int index) => _seg[index];

    public TableRegister Gdtr => _gdtr;

    public TableRegister Idtr => _idtr;

    /// <summary>Linear address of the next instruction (CS.base + RIP, 32-bit wrap outside 64-bit mode).</summary>
    public ulong LinearRip => _bitness == 64 ? _seg[Seg.Cs].Base + _rip : (uint)(_seg[Seg.Cs].Base + _rip);

    /// <summary>
    /// Power-on/RESET state (Intel SDM Vol. 3, Table 9-1), with the values QEMU's qemu64 model
    /// shows: EDX = CPUID.1.EAX signature, CR0 = 0x60000010, CS F000 base 0xFFFF0000, IP FFF0.
    /// </summary>
    public void Reset()
    {
        for (int i = 0; i < 16; i++)
        {
            _gpr[i] = 0;
        }

        _gpr[Gpr.Rdx] = Model.ResetEdx;
        _rip = 0xFFF0;
        _flags = RFlags.Reserved1;
        _lazy = LazyOp.None;
        _cr0 = CrBits.CD | CrBits.NW | CrBits.ET;
        _cr2 = _cr3 = _cr4 = _cr8 = 0;
        _efer = 0;
        Array.Clear(_dr);
        _dr[6] = 0xFFFF0FF0;
        _dr[7] = 0x400;
        DebugRegistersChanged();
        for (int i = 0; i < 6; i++)
        {
            // Data segments: present, writable, accessed; limit 64 KiB (SDM Table 9-1).
            _seg[i] = new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x9300 };
        }

        _seg[Seg.Cs] = new SegmentRegister { Selector = 0xF000, Base = 0xFFFF0000, Limit = 0xFFFF, Attributes = 0x9B00 };
        _gdtr = new TableRegister { Base = 0, Limit = 0xFFFF };
        _idtr = new TableRegister { Base = 0, Limit = 0xFFFF };
        _ldtr = new SegmentRegister { Limit = 0xFFFF, Attributes = 0x8200 };
        _tr = new SegmentRegister { Limit = 0xFFFF, Attributes = 0x8B00 };
        _cpl = 0;
        Msrs.Reset();
        Fpu.Reset();
        _interruptShadow = false;
        _nmiPending = false;
        _nmiBlocked = false;
        _halted = false;
        _smiPending = _smmInsideNmi = false;
        SetInSmm(false);
        ResetSvm();
        SmBase = DefaultSmBase;
        LastException = -1;
        _lastBitness = -1;
        UpdateMode();
        FlushTlb();
    }

    /// <summary>Recomputes bitness, stack size and effective segment bases after CR0/EFER/CS/SS changes.</summary>
    internal void UpdateMode()
    {
        _codeGeneration++;
        bool pe = (_cr0 & CrBits.PE) != 0;
        bool lma = (_efer & CrBits.EferLma) != 0;
        if (!pe || (_flags & RFlags.VM) != 0)
        {
            _bitness = 16;
        }
        else if (lma && _seg[Seg.Cs].Long)
        {
            _bitness = 64;
        }
        else
        {
            _bitness = _seg[Seg.Cs].Big ? 32 : 16;
        }

        _stackSize = _bitness == 64 ? 8 : (pe && _seg[Seg.Ss].Big ? 4 : 2);
        for (int i = 0; i < 6; i++)
        {
            _segBase[i] = _bitness == 64 && i < Seg.Fs ? 0 : _seg[i].Base;
        }

        _segBase[Seg.None] = 0;
    }
}
