using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu;

/// <summary>
/// Debug exceptions (#DB, vector 1) as QEMU 7.2 TCG raises them (target/i386/tcg/translate.c,
/// target/i386/tcg/bpt_helper.c, target/i386/tcg/sysemu/bpt_helper.c; docs/cpu.md, "Debug
/// exceptions"):
/// <list type="bullet">
/// <item>Single-step: an instruction that starts with RFLAGS.TF set is followed by #DB (a trap:
///   the frame holds the next instruction) with DR6.BS, unless it leaves by an exception or INT n
///   / INT3 / INTO, halts, or is STI, MOV SS or POP SS (gen_eob_inhibit_irq: no trap after them;
///   the one after them traps). POPF or IRET that set TF trap after the next instruction, those
///   that clear it after themselves. REP string instructions trap after each iteration, RIP still
///   on the instruction while iterations remain (gen_repz).</item>
/// <item>Instruction breakpoints (DR7 type 00, L or G enabled): #DB before the instruction at
///   linear DRn (a fault), unless RFLAGS.RF is set (x86_debug_check_breakpoint). RF is cleared
///   after the next instruction (gen_eob_worker); QEMU never sets it on exception delivery.</item>
/// <item>Data breakpoints (type 01 write, 11 read or write; length 1, 2, 4 or 8 from DR7.LEN, the
///   range [DRn, DRn + len − 1] with no alignment, as cpu_watchpoint_insert takes it): detected
///   at the access, raised as #DB after the instruction with DR6.B0–B3.</item>
/// <item>DR6's low bits as check_hw_breakpoints computes them: every breakpoint of type 00 whose
///   DRn equals RIP (enabled or not), and the data breakpoints hit.</item>
/// </list>
/// Not modelled, as in QEMU 7.2: DR7.GD (general detect; QEMU defines DR7_GD and never reads it),
/// I/O breakpoints (type 10, QEMU's helper_bpt_io) are left out here.
/// All of this costs nothing while TF and RF are clear and DR7 enables nothing: blocks are then
/// built as always. Otherwise every block is one instruction built for "stepping" and run through
/// <see cref="RunSteppingBlock"/> (the block records the state it was built for, so a change of
/// TF, RF or DR7 — which always ends the block — makes the next lookup build anew), and the TLB
/// gives pages holding a watched range no host pointers, so their accesses reach the slow path's
/// check.
/// </summary>
public sealed partial class Cpu
{
    private const ulong Dr6Bs = 1UL << 14;

    /// <summary>DR7 enables an instruction or data breakpoint (QEMU's cpu_x86_update_dr7 inserts one).</summary>
    private bool _breakpointsArmed;

    /// <summary>DR7 enables a data breakpoint: the TLB keeps watched pages on the slow path.</summary>
    private bool _watchArmed;

    /// <summary>B0–B3 of the data breakpoints the current instruction hit.</summary>
    private int _watchHits;

    /// <summary>Whether blocks must be built for stepping now: TF, RF, or a breakpoint armed.</summary>
    internal bool SteppingNow => (_flags & (RFlags.TF | RFlags.RF)) != 0 || _breakpointsArmed;

    /// <summary>
    /// DR0–DR3 or DR7 changed (MOV DR, reset, SMM, a snapshot): re-arm. Blocks and TLB entries
    /// built under the old arming are dropped or rebuilt on their next lookup.
    /// </summary>
    internal void DebugRegistersChanged()
    {
        bool armed = false, watch = false;
        for (int i = 0; i < 4; i++)
        {
            if (BreakpointEnabled(i) && BreakpointType(i) != 2)
            {
                armed = true;
                watch |= BreakpointType(i) != 0;
            }
        }

        if (armed != _breakpointsArmed)
        {
            // Blocks built for the other state must not be reached through links.
            _codeGeneration++;
            _exitBlock = true;
        }

        watch |= _hostWatchpoints.Count > 0;
        bool flush = watch || _watchArmed;
        _breakpointsArmed = armed;
        _watchArmed = watch;
        if (flush)
        {
            FlushTlb();
        }
    }

    private bool BreakpointEnabled(int i) => ((_dr[7] >> (i * 2)) & 3) != 0;

    private int BreakpointType(int i) => (int)(_dr[7] >> (16 + (i * 4))) & 3;

    /// <summary>DR7.LEN as QEMU's hw_breakpoint_len reads it: 0, 1, 3 are 1, 2, 4 bytes; 2 is 8.</summary>
    private ulong BreakpointLength(int i)
    {
        ulong len = (_dr[7] >> (18 + (i * 4))) & 3;
        return len == 2 ? 8 : len + 1;
    }

    /// <summary>Whether an armed data breakpoint covers part of the page at <paramref name="linear"/>, for reads (or writes only).</summary>
    private bool PageWatched(ulong linear, bool reads)
    {
        ulong page = linear & ~0xFFFUL;
        if (HostPageWatched(page, reads))
        {
            return true;
        }

        for (int i = 0; i < 4; i++)
        {
            int type = BreakpointType(i);
            if (BreakpointEnabled(i) && type is 1 or 3 && (!reads || type == 3)
                && _dr[i] <= page + 0xFFF && page <= _dr[i] + BreakpointLength(i) - 1)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An access reached the slow path while data breakpoints are armed: note the ones it hits (QEMU's cpu_check_watchpoint).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckWatchpoints(ulong linear, int size, bool write)
    {
        if (_hostWatchpoints.Count > 0)
        {
            CheckHostWatchpoints(linear, size, write);
        }

        for (int i = 0; i < 4; i++)
        {
            int type = BreakpointType(i);
            if (BreakpointEnabled(i) && (type == 3 || (type == 1 && write))
                && linear <= _dr[i] + BreakpointLength(i) - 1 && _dr[i] <= linear + (ulong)size - 1)
            {
                _watchHits |= 1 << i;
            }
        }
    }

    /// <summary>DR6 as check_hw_breakpoints leaves it: B0–B3 from the type-00 breakpoints at RIP and the data breakpoints hit.</summary>
    private ulong Dr6WithMatches(int watchHits)
    {
        ulong dr6 = _dr[6] & ~0xFUL;
        for (int i = 0; i < 4; i++)
        {
            if ((BreakpointType(i) == 0 && _dr[i] == _rip) || (watchHits & (1 << i)) != 0)
            {
                dr6 |= 1UL << i;
            }
        }

        return dr6;
    }

    /// <summary>An enabled instruction breakpoint at linear <paramref name="linear"/>.</summary>
    private bool InstructionBreakpointAt(ulong linear)
    {
        for (int i = 0; i < 4; i++)
        {
            if (BreakpointEnabled(i) && BreakpointType(i) == 0 && _dr[i] == linear)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Runs a stepping block's one instruction with the debug checks around it (see the type's
    /// summary). Traps are raised as a <see cref="GuestFault"/> for #DB after RIP has moved on,
    /// so the run loop delivers them with the next instruction in the frame.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RunSteppingBlock(Block block)
    {
        ref DecodedOp op = ref block.Ops[0];
        bool resume = (_flags & RFlags.RF) != 0;
        bool trap = (_flags & RFlags.TF) != 0;
        if (!resume && _breakpointsArmed && InstructionBreakpointAt(LinearRip))
        {
            _dr[6] = Dr6WithMatches(0);
            throw new GuestFault(Vector.DB);
        }

        long exceptions = ExceptionCount;
        _watchHits = 0;
        if (trap && op.Rep != 0)
        {
            RunOneIteration(block);
        }
        else
        {
            ExecuteBlock(block, 1);
        }

        // gen_eob_worker clears RF at the end of a block that started with it.
        if (resume)
        {
            _flags &= ~RFlags.RF;
        }

        _exitBlock = true;
        int hits = _watchHits;
        _watchHits = 0;
        if (ExceptionCount != exceptions || _halted)
        {
            // INT n, INT3 and INTO leave through raise_interrupt, HLT through helper_hlt: no trap.
            return;
        }

        if (trap && !InhibitsInterrupts(ref op))
        {
            _dr[6] = Dr6WithMatches(hits) | Dr6Bs;
            throw new GuestFault(Vector.DB);
        }

        if (hits != 0)
        {
            _dr[6] = Dr6WithMatches(hits);
            throw new GuestFault(Vector.DB);
        }
    }

    /// <summary>STI, MOV SS and POP SS end their block with gen_eob_inhibit_irq(s, true), which skips the single-step trap.</summary>
    private static bool InhibitsInterrupts(ref DecodedOp op) =>
        op.Insn.Mnemonic == Iced.Intel.Mnemonic.Sti
        || (op.Kind0 == OperandKind.Segment && op.Reg0 == Seg.Ss && op.Insn.Mnemonic is Iced.Intel.Mnemonic.Mov or Iced.Intel.Mnemonic.Pop);

    /// <summary>
    /// One iteration of a REP string instruction under TF, as gen_repz translates it when
    /// single-stepping: the count drops by one, and RIP stays on the instruction unless the count
    /// reached zero or REPE/REPNE's condition ended the loop. Runs the handler with a count of one.
    /// </summary>
    private void RunOneIteration(Block block)
    {
        ref DecodedOp op = ref block.Ops[0];
        ulong mask = Mask(op.AddrSize);
        ulong saved = _gpr[Gpr.Rcx];
        ulong count = saved & mask;
        if (count <= 1)
        {
            ExecuteBlock(block, 1);
            return;
        }

        ulong start = _rip;
        WriteGpr(Gpr.Rcx, op.AddrSize, 1);
        try
        {
            ExecuteBlock(block, 1);
        }
        catch (GuestFault)
        {
            _gpr[Gpr.Rcx] = saved;
            throw;
        }

        WriteGpr(Gpr.Rcx, op.AddrSize, count - 1);
        bool compares = op.Insn.Mnemonic is Iced.Intel.Mnemonic.Cmpsb or Iced.Intel.Mnemonic.Cmpsw or Iced.Intel.Mnemonic.Cmpsd
            or Iced.Intel.Mnemonic.Cmpsq or Iced.Intel.Mnemonic.Scasb or Iced.Intel.Mnemonic.Scasw or Iced.Intel.Mnemonic.Scasd
            or Iced.Intel.Mnemonic.Scasq;
        bool ended = compares && GetZF() != (op.Rep == 1);
        if (!ended)
        {
            _rip = start;
        }
    }
}
