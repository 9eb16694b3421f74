using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The decoded-block cache. Iced decodes each instruction once; the result, with its handler and
/// operand locations resolved, is kept per physical page and reused until the page is written
/// (firmware copies and decompresses code into RAM and runs it, so invalidation must be exact).
/// </summary>
public sealed unsafe partial class Cpu
{
    private const int LowPageCount = 1 << 20;

    private readonly CodePage?[] _codePages = new CodePage?[LowPageCount];

    /// <summary>
    /// The low pages that have held a code page since the last flush (each once: a bit per page
    /// in <see cref="_lowPagesListed"/>), so a flush visits those rather than all 2^20 slots
    /// (a full scan took about a millisecond: the CPU fuzzer flushes several times per case,
    /// and snapshot restores and debugger breakpoints flush too).
    /// </summary>
    private readonly List<ulong> _lowPagesUsed = [];
    private readonly ulong[] _lowPagesListed = new ulong[LowPageCount / 64];
    private readonly Dictionary<ulong, CodePage> _highCodePages = [];
    private readonly Dictionary<ulong, List<ulong>> _spillOwners = [];
    private readonly byte[] _everExecuted = new byte[LowPageCount];
    /// <summary>Host breakpoints by linear address, each with the number of users that set it (milestones, console polls, a debugger).</summary>
    private readonly Dictionary<ulong, int> _breakpoints = [];
    private readonly LinearCodeReader _reader;
    private Decoder? _decoder16;
    private Decoder? _decoder32;
    private Decoder? _decoder64;
    private DecodedOp[] _scratch = new DecodedOp[Block.MaxOps];

    /// <summary>Raised the first time execution enters a physical page (argument: page number).</summary>
    public event Action<ulong>? CodePageFirstEntered;

    /// <summary>
    /// Called with the linear address of every block about to be decoded (the CPU is about to run
    /// code there that it has no decoded copy of): where module recognition looks for image
    /// entry points. Must not change guest state.
    /// </summary>
    public Action<ulong>? BlockDecoding { get; set; }

    /// <summary>
    /// Asked (after <see cref="BlockDecoding"/>) for the counter a new block at this linear address
    /// adds its executed instructions to; null for none. Blocks are dropped when their page is
    /// written, so code loaded later at the same address gets asked again.
    /// </summary>
    public Func<ulong, ExecutionCounter?>? CounterForBlock { get; set; }

    /// <summary>
    /// Bumped whenever a cached block link could lead to the wrong block: TLB flushes, code
    /// writes, cache flushes, CS/mode changes. Links made under another generation are ignored.
    /// </summary>
    internal long _codeGeneration;

    /// <summary>Blocks decoded so far (a measure of decode work and of cache churn).</summary>
    public long BlocksBuilt { get; private set; }

    /// <summary>Code pages dropped because something wrote to them.</summary>
    public long CodePageInvalidations { get; private set; }

    /// <summary>Longest block the decoder may build (1 while tracing or single-stepping).</summary>
    internal int BlockLimit { get; set; } = Block.MaxOps;

    /// <summary>
    /// Ends blocks before <paramref name="linear"/> so <see cref="BreakpointHit"/> is asked there.
    /// Counted: each user's <see cref="RemoveBreakpoint"/> undoes its own add only.
    /// </summary>
    public void AddBreakpoint(ulong linear)
    {
        ref int users = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_breakpoints, linear, out bool existed);
        users++;
        if (!existed)
        {
            FlushCodeCache();
        }
    }

    public void RemoveBreakpoint(ulong linear)
    {
        if (_breakpoints.TryGetValue(linear, out int users))
        {
            if (users > 1)
            {
                _breakpoints[linear] = users - 1;
                return;
            }

            _breakpoints.Remove(linear);
            FlushCodeCache();
        }
    }

    /// <summary>How many times the code cache was dropped (<see cref="FlushCodeCache"/>): a replay of history drops it where the run did.</summary>
    public long CodeCacheFlushes { get; private set; }

    /// <summary>Drops every decoded block (breakpoints changed, or a snapshot was restored).</summary>
    public void FlushCodeCache()
    {
        CodeCacheFlushes++;
        foreach (ulong p in _lowPagesUsed)
        {
            _lowPagesListed[p >> 6] = 0;
            if (_codePages[p] != null)
            {
                _codePages[p] = null;
                _bus.ClearCodePage(p);
            }
        }

        _lowPagesUsed.Clear();
        foreach (var p in _highCodePages.Keys)
        {
            _bus.ClearCodePage(p);
        }

        _highCodePages.Clear();
        _spillOwners.Clear();
        _codeGeneration++;
        _exitBlock = true;
    }

    private void SetLowCodePage(ulong physPage, CodePage page)
    {
        _codePages[physPage] = page;
        ulong bit = 1UL << (int)(physPage & 63);
        if ((_lowPagesListed[physPage >> 6] & bit) == 0)
        {
            _lowPagesListed[physPage >> 6] |= bit;
            _lowPagesUsed.Add(physPage);
        }
    }

    private CodePage? GetCodePage(ulong physPage) =>
        physPage < LowPageCount ? _codePages[physPage] : _highCodePages.GetValueOrDefault(physPage);

    private CodePage CreateCodePage(ulong physPage)
    {
        var page = new CodePage();
        if (physPage < LowPageCount)
        {
            SetLowCodePage(physPage, page);
        }
        else
        {
            _highCodePages[physPage] = page;
        }

        _bus.MarkCodePage(physPage);
        RevokeWriteHost(physPage);
        return page;
    }

    /// <summary>A write reached a page with decoded code: forget its blocks (and those spilling into it).</summary>
    internal void InvalidateCodePage(ulong physPage)
    {
        CodePageInvalidations++;
        _codeGeneration++;
        if (physPage < LowPageCount)
        {
            _codePages[physPage] = null;
        }
        else
        {
            _highCodePages.Remove(physPage);
        }

        _bus.ClearCodePage(physPage);
        _exitBlock = true;
        if (_spillOwners.Remove(physPage, out var owners))
        {
            foreach (var owner in owners)
            {
                InvalidateCodePage(owner);
            }
        }
    }

    /// <summary>The block starting at the current CS:RIP, decoding it if needed.</summary>
    internal Block GetBlock()
    {
        ulong lin = LinearRip;
        ref var e = ref Translate(lin, Access.Execute);
        ulong physPage = e.PhysPage;
        var page = GetCodePage(physPage);
        var block = page?.Blocks[lin & 0xFFF];
        if (block != null && block.Bitness == _bitness && (BlockLimit >= block.Count) && block.Stepping == SteppingNow)
        {
            return block;
        }

        return BuildBlock(lin, physPage, page);
    }

    private Block BuildBlock(ulong lin, ulong physPage, CodePage? page)
    {
        BlocksBuilt++;
        BlockDecoding?.Invoke(lin);
        if (physPage < LowPageCount && _everExecuted[physPage] == 0)
        {
            _everExecuted[physPage] = 1;
            CodePageFirstEntered?.Invoke(physPage);
        }

        var decoder = _bitness switch
        {
            64 => _decoder64 ??= Decoder.Create(64, _reader, DecoderOptions.None),
            32 => _decoder32 ??= Decoder.Create(32, _reader, DecoderOptions.None),
            _ => _decoder16 ??= Decoder.Create(16, _reader, DecoderOptions.None),
        };

        ulong rip = _rip;
        ulong offsetInPage = lin & 0xFFF;
        int count = 0;
        int bytes = 0;
        bool lastIsBranch = false;
        bool crossesPage = false;
        ulong spillPage = 0;
        bool flagsWritten = false;
        bool stepping = SteppingNow;
        int limit = stepping ? 1 : BlockLimit;
        while (count < limit)
        {
            ulong insnLin = WrapLinear(lin + (ulong)bytes);
            if (count > 0 && _breakpoints.ContainsKey(insnLin))
            {
                break;
            }

            _reader.Position = insnLin;
            decoder.IP = rip + (ulong)bytes;
            Instruction insn;
            try
            {
                decoder.Decode(out insn);
                if (insn.Code is Code.INVALID or Code.Pause)
                {
                    DecodeAsQemu(ref insn, insnLin);
                }
            }
            catch (GuestFault) when (count > 0)
            {
                // The next instruction's bytes fault (e.g. the following page is absent): end the
                // block here; the fault is raised when execution actually reaches it.
                break;
            }

            ref var op = ref _scratch[count];
            Prepare(ref op, in insn);
            op.FlagsWrittenInBlock = flagsWritten ? (byte)1 : (byte)0;
            flagsWritten |= insn.RflagsModified != RflagsBits.None;
            count++;
            bytes += insn.Length;
            if (_reader.LastPhysPage != physPage)
            {
                crossesPage = true;
                spillPage = _reader.LastPhysPage;
                lastIsBranch = insn.FlowControl != FlowControl.Next;
                break;
            }

            if (insn.FlowControl != FlowControl.Next || EndsBlock(insn.Code))
            {
                lastIsBranch = insn.FlowControl != FlowControl.Next;
                break;
            }

            if (offsetInPage + (ulong)bytes >= 0x1000)
            {
                break;
            }
        }

        var ops = new DecodedOp[count];
        Array.Copy(_scratch, ops, count);
        bool breakpoint = _breakpoints.ContainsKey(lin);
        var block = new Block(ops, count, (physPage << 12) | offsetInPage, _bitness, lastIsBranch)
        {
            BreakpointAtStart = breakpoint,
            Stepping = stepping,
            SlowEntry = breakpoint || stepping,
            Counter = CounterForBlock?.Invoke(lin),
        };

        page ??= CreateCodePage(physPage);
        page.Blocks[offsetInPage] = block;
        if (crossesPage && spillPage != physPage)
        {
            if (GetCodePage(spillPage) == null)
            {
                CreateCodePage(spillPage);
            }

            if (!_spillOwners.TryGetValue(spillPage, out var owners))
            {
                _spillOwners[spillPage] = owners = [];
            }

            if (!owners.Contains(physPage))
            {
                owners.Add(physPage);
            }
        }

        return block;
    }

    /// <summary>Instructions after which the decoder stops a block even though control flows on.</summary>
    private static bool EndsBlock(Code code) => code switch
    {
        Code.Hlt or Code.Sti or Code.Popfw or Code.Popfd or Code.Popfq => true,
        Code.Mov_Sreg_rm16 or Code.Mov_Sreg_r32m16 or Code.Mov_Sreg_r64m16 or Code.Popw_SS or Code.Popd_SS => true,
        Code.Wrmsr or Code.Lgdt_m1632_16 or Code.Lgdt_m1632 or Code.Lgdt_m1664 => true,
        Code.Mov_cr_r32 or Code.Mov_cr_r64 or Code.Clts or Code.Lmsw_rm16 or Code.Lmsw_r32m16 or Code.Lmsw_r64m16 => true,
        _ => false,
    };

    internal byte FetchCodeByte(ulong lin, out ulong physPage)
    {
        ref var e = ref Translate(lin, Access.Execute);
        physPage = e.PhysPage;
        return e.ReadHost != null ? e.ReadHost[lin & 0xFFF] : (byte)_bus.Read((physPage << 12) | (lin & 0xFFF), 1);
    }

    /// <summary>Resolves an Iced instruction into the hot-path form.</summary>
    private void Prepare(ref DecodedOp op, in Instruction insn)
    {
        op = default;
        op.Insn = insn;
        op.Length = (byte)insn.Length;
        op.MemBase = DecodedOp.ZeroReg;
        op.MemIndex = DecodedOp.ZeroReg;
        op.MemSeg = Seg.None;
        op.AddrSize = (byte)(insn.MemoryDisplSize == 0 && insn.MemoryBase == Register.None && insn.MemoryIndex == Register.None
            ? _bitness / 8
            : AddressSize(insn));
        int opCount = insn.OpCount;
        for (int i = 0; i < opCount && i < 3; i++)
        {
            var kind = insn.GetOpKind(i);
            OperandKind k;
            byte reg = 0;
            switch (kind)
            {
                case OpKind.Register:
                    (k, reg) = ClassifyRegister(insn.GetOpRegister(i));
                    break;
                case OpKind.Memory:
                    k = OperandKind.Memory;
                    ResolveMemory(ref op, in insn);
                    break;
                case OpKind.Immediate8:
                case OpKind.Immediate16:
                case OpKind.Immediate32:
                case OpKind.Immediate64:
                case OpKind.Immediate8to16:
                case OpKind.Immediate8to32:
                case OpKind.Immediate8to64:
                case OpKind.Immediate32to64:
                    k = OperandKind.Immediate;
                    if (i == 0 || op.Kind0 != OperandKind.Immediate)
                    {
                        op.Imm = insn.GetImmediate(i);
                    }

                    break;
                case OpKind.MemorySegSI:
                case OpKind.MemorySegESI:
                case OpKind.MemorySegRSI:
                case OpKind.MemoryESDI:
                case OpKind.MemoryESEDI:
                case OpKind.MemoryESRDI:
                case OpKind.MemorySegDI:
                case OpKind.MemorySegEDI:
                case OpKind.MemorySegRDI:
                    k = OperandKind.Other;
                    ResolveStringOperand(ref op, in insn, kind);
                    break;
                case OpKind.NearBranch16:
                case OpKind.NearBranch32:
                case OpKind.NearBranch64:
                    k = OperandKind.Immediate;
                    op.Disp = insn.NearBranchTarget - insn.NextIP;
                    break;
                default:
                    k = OperandKind.Other;
                    break;
            }

            switch (i)
            {
                case 0: op.Kind0 = k; op.Reg0 = reg; break;
                case 1: op.Kind1 = k; op.Reg1 = reg; break;
                default: op.Kind2 = k; op.Reg2 = reg; break;
            }
        }

        op.EaMaskShift = (byte)(64 - op.AddrSize * 8);
        op.OpSize = (byte)OperandSize(in insn, 0);
        op.Op1Size = (byte)(opCount > 1 ? OperandSize(in insn, 1) : 0);
        if (insn.HasRepPrefix || insn.HasRepePrefix)
        {
            op.Rep = 1;
        }
        else if (insn.HasRepnePrefix)
        {
            op.Rep = 2;
        }

        op.Handler = QemuLockedStoreDoesNothing(in insn) ? (insn.Op1Register.IsMM() ? &Handlers.LockedMmxStore : &Handlers.LockedXmmStore)
            : insn.HasLockPrefix && QemuEntersMmxBeforeRefusingLock(in insn) ? &Handlers.LockRefusedAfterEnteringMmx
            : insn.HasLockPrefix && QemuChecksSseBeforeRefusingLock(in insn) ? &Handlers.LockRefusedAfterSseChecks
            : insn.HasLockPrefix && QemuLoadsSourceBeforeRefusingLock(in insn) ? &Handlers.LockRefusedAfterLoadingSource
            : HandlerTable.Lookup(insn.Code, op.OpSize);
        if (op.Kind0 == OperandKind.Gpr && op.Kind1 != OperandKind.Memory)
        {
            var registerForm = HandlerTable.LookupRegisterForm(insn.Code, op.OpSize);
            if (registerForm != null)
            {
                op.Handler = registerForm;
            }
        }
    }

    private int OperandSize(in Instruction insn, int i)
    {
        var kind = insn.GetOpKind(i);
        if (kind == OpKind.Register)
        {
            int s = insn.GetOpRegister(i).GetSize();
            if (s is 1 or 2 or 4 or 8)
            {
                return s;
            }
        }
        else if (kind == OpKind.Memory)
        {
            int s = insn.MemorySize.GetSize();
            if (s is 1 or 2 or 4 or 8)
            {
                return s;
            }
        }

        // No sized operand (branches, PUSH imm, string ops ...): the instruction's operand size.
        int opSize = insn.Code.ToOpCode().OperandSize;
        if (opSize != 0)
        {
            return opSize / 8;
        }

        return _bitness == 16 ? 2 : 4;
    }

    private static int AddressSize(in Instruction insn)
    {
        var r = insn.MemoryBase != Register.None ? insn.MemoryBase : insn.MemoryIndex;
        if (r == Register.RIP)
        {
            return 8;
        }

        if (r == Register.EIP)
        {
            return 4;
        }

        if (r != Register.None)
        {
            return r.GetSize();
        }

        return insn.MemoryDisplSize switch
        {
            2 => 2,
            4 => 4,
            8 => 8,
            _ => insn.CodeSize switch { CodeSize.Code16 => 2, CodeSize.Code32 => 4, _ => 8 },
        };
    }

    /// <summary>
    /// String instructions (MOVS, STOS, INS ...) and MASKMOVQ/MASKMOVDQU (DS:rDI) address memory
    /// through SI/DI, not a ModRM operand: the element size, the address size (the SI/DI operand kind reflects a 67h
    /// prefix) and the source segment (DS or the override; the destination is always ES).
    /// </summary>
    private static void ResolveStringOperand(ref DecodedOp op, in Instruction insn, OpKind kind)
    {
        op.AddrSize = kind switch
        {
            OpKind.MemorySegSI or OpKind.MemoryESDI or OpKind.MemorySegDI => 2,
            OpKind.MemorySegESI or OpKind.MemoryESEDI or OpKind.MemorySegEDI => 4,
            _ => 8,
        };
        op.MemSeg = insn.SegmentPrefix switch
        {
            Register.ES => Seg.Es,
            Register.CS => Seg.Cs,
            Register.SS => Seg.Ss,
            Register.FS => Seg.Fs,
            Register.GS => Seg.Gs,
            _ => Seg.Ds,
        };
        op.MemSize = (byte)insn.MemorySize.GetSize();
    }

    private static void ResolveMemory(ref DecodedOp op, in Instruction insn)
    {
        op.MemSize = (byte)insn.MemorySize.GetSize();
        op.MemSeg = insn.MemorySegment switch
        {
            Register.ES => Seg.Es,
            Register.CS => Seg.Cs,
            Register.SS => Seg.Ss,
            Register.DS => Seg.Ds,
            Register.FS => Seg.Fs,
            Register.GS => Seg.Gs,
            _ => Seg.None,
        };
        var b = insn.MemoryBase;
        if (b == Register.RIP || b == Register.EIP)
        {
            op.MemBase = DecodedOp.RipBase;
            op.Disp = insn.MemoryDisplacement64 - insn.NextIP;
        }
        else
        {
            op.MemBase = b == Register.None ? DecodedOp.ZeroReg : (byte)b.GetNumber();
            op.Disp = insn.MemoryDisplacement64;
        }

        op.MemIndex = insn.MemoryIndex == Register.None ? DecodedOp.ZeroReg : (byte)insn.MemoryIndex.GetNumber();
        op.MemScaleShift = insn.MemoryIndexScale switch { 2 => 1, 4 => 2, 8 => 3, _ => 0 };
    }

    internal static (OperandKind Kind, byte Number) ClassifyRegister(Register r)
    {
        if (r.IsGPR8())
        {
            int n = r.GetNumber();
            int idx = n < 4 ? n : n < 8 ? Gpr.HighByteBase + (n - 4) : n - 4;
            return (OperandKind.Gpr, (byte)idx);
        }

        if (r.IsGPR16() || r.IsGPR32() || r.IsGPR64())
        {
            return (OperandKind.Gpr, (byte)r.GetNumber());
        }

        if (r.IsSegmentRegister())
        {
            return (OperandKind.Segment, (byte)r.GetNumber());
        }

        if (r.IsCR())
        {
            return (OperandKind.Control, (byte)r.GetNumber());
        }

        if (r.IsDR())
        {
            return (OperandKind.Debug, (byte)r.GetNumber());
        }

        if (r.IsXMM())
        {
            return (OperandKind.Xmm, (byte)r.GetNumber());
        }

        if (r.IsST())
        {
            return (OperandKind.St, (byte)r.GetNumber());
        }

        if (r.IsMM())
        {
            return (OperandKind.Mmx, (byte)r.GetNumber());
        }

        return (OperandKind.Other, 0);
    }
}
