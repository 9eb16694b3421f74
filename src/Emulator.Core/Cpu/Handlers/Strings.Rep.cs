using System.Runtime.CompilerServices;

namespace Emulator.Core.Cpu;

/// <summary>
/// String loops with and without REP/REPE/REPNE (Intel SDM Vol. 2, REP/REPE/REPZ/REPNE/REPNZ).
/// Without a prefix the loop runs once and leaves (E/R)CX alone. A whole REP instruction is one
/// handler call and one retired instruction; iterations beyond the first are added to
/// <see cref="Cpu.RepIterations"/> (virtual time). Registers are kept in locals and written back
/// in a <c>finally</c>, advanced only past completed elements, so a fault in the middle leaves
/// (E/R)CX, SI and DI as the SDM requires for restarting the instruction.
/// Forward MOVS and STOS copy or fill whole page chunks through host pointers when both sides
/// are plain RAM; MMIO, pages holding decoded code (their write pointer is revoked, so writes go
/// through the bus and invalidate), overlapping moves, page-crossing elements and DF = 1 take the
/// element loop.
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>Elements that fit before <paramref name="lin"/>'s page ends and before the offset wraps at the address size.</summary>
    private static ulong ChunkLimit(ulong n, ulong lin, ulong offset, ulong mask, int size)
    {
        ulong p = (0x1000 - (lin & 0xFFF)) / (ulong)size;
        if (p < n)
        {
            n = p;
        }

        if (mask != ulong.MaxValue)
        {
            p = (mask - offset + 1) / (ulong)size;
            if (p < n)
            {
                n = p;
            }
        }

        return n;
    }

    /// <summary>
    /// Returns the element count: (E/R)CX at the address size
    /// under REP, 1 without. <paramref name="step"/> is the element step by DF.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong BeginString(Cpu cpu, ref DecodedOp op, out ulong mask, out ulong step)
    {
        mask = Cpu.Mask(op.AddrSize);
        step = StringStep(cpu, op.MemSize);
        return op.Rep != 0 ? cpu._gpr[Gpr.Rcx] & mask : 1;
    }

    /// <summary>
    /// Writes back what the loop completed: <paramref name="index"/> (SI or DI) under REP always,
    /// advanced past the elements done, without REP only once the element is done, so a faulting
    /// single-element instruction changes no register; then the count, by <see cref="EndRep"/>.
    /// </summary>
    private static void EndString(Cpu cpu, ref DecodedOp op, ulong count, int index, ulong value)
    {
        if (op.Rep != 0 || count == 0)
        {
            cpu.WriteGpr(index, op.AddrSize, value);
        }

        EndRep(cpu, ref op, count);
    }

    /// <summary>As <see cref="EndString(Cpu, ref DecodedOp, ulong, int, ulong)"/> for the instructions that advance both SI and DI.</summary>
    private static void EndString(Cpu cpu, ref DecodedOp op, ulong count, ulong si, ulong di)
    {
        if (op.Rep != 0 || count == 0)
        {
            cpu.WriteGpr(Gpr.Rsi, op.AddrSize, si);
        }

        EndString(cpu, ref op, count, Gpr.Rdi, di);
    }

    /// <summary>
    /// Under REP, writes back the count left in (E/R)CX and books the iterations done beyond the
    /// first. The count at the start is still in (E/R)CX: the loops write it only here.
    /// </summary>
    private static void EndRep(Cpu cpu, ref DecodedOp op, ulong count)
    {
        if (op.Rep == 0)
        {
            return;
        }

        int a = op.AddrSize;
        ulong done = (cpu._gpr[Gpr.Rcx] & Cpu.Mask(a)) - count;
        cpu.WriteGpr(Gpr.Rcx, a, count);
        if (done > 1)
        {
            cpu.RepIterations += (long)(done - 1);
        }
    }

    private static void Movs(Cpu cpu, ref DecodedOp op)
    {
        ulong count = BeginString(cpu, ref op, out ulong m, out ulong step);
        if (count == 0)
        {
            return;
        }

        int size = op.MemSize;
        ulong si = cpu._gpr[Gpr.Rsi] & m, di = cpu._gpr[Gpr.Rdi] & m;
        int seg = op.MemSeg;
        bool forward = step == (ulong)size;
        try
        {
            while (count != 0)
            {
                ulong srcLin = cpu.Linear(seg, si), dstLin = cpu.Linear(Seg.Es, di);
                ulong n = 1;
                if (forward)
                {
                    n = ChunkLimit(ChunkLimit(count, srcLin, si, m, size), dstLin, di, m, size);
                    if (n != 0 && TryCopyChunk(cpu, srcLin, dstLin, n * (ulong)size))
                    {
                        si = (si + n * (ulong)size) & m;
                        di = (di + n * (ulong)size) & m;
                        count -= n;
                        continue;
                    }

                    n = n == 0 ? 1 : n;
                }

                for (; n != 0; n--)
                {
                    ulong v = cpu.ReadSized(cpu.Linear(seg, si), size);
                    cpu.WriteSized(cpu.Linear(Seg.Es, di), size, v);
                    si = (si + step) & m;
                    di = (di + step) & m;
                    count--;
                }
            }
        }
        finally
        {
            EndString(cpu, ref op, count, si, di);
        }
    }

    /// <summary>
    /// Copies <paramref name="len"/> bytes within one source and one destination page through
    /// host pointers. Refuses when either side is not plain RAM, or when the destination starts
    /// inside the source range (a forward element copy then replicates data, which memmove
    /// would not); a destination below the source is the same forward copy either way.
    /// </summary>
    private static bool TryCopyChunk(Cpu cpu, ulong srcLin, ulong dstLin, ulong len)
    {
        byte* src = cpu.Translate(srcLin, Cpu.Access.Read).ReadHost;
        if (src == null)
        {
            return false;
        }

        byte* dst = cpu.Translate(dstLin, Cpu.Access.Write).WriteHost;
        if (dst == null)
        {
            return false;
        }

        src += srcLin & 0xFFF;
        dst += dstLin & 0xFFF;
        if (dst > src && dst < src + len)
        {
            return false;
        }

        Buffer.MemoryCopy(src, dst, len, len);
        return true;
    }

    private static void Stos(Cpu cpu, ref DecodedOp op)
    {
        ulong count = BeginString(cpu, ref op, out ulong m, out ulong step);
        if (count == 0)
        {
            return;
        }

        int size = op.MemSize;
        ulong di = cpu._gpr[Gpr.Rdi] & m;
        ulong value = cpu._gpr[Gpr.Rax];
        bool forward = step == (ulong)size;
        try
        {
            while (count != 0)
            {
                ulong dstLin = cpu.Linear(Seg.Es, di);
                ulong n = 1;
                if (forward)
                {
                    n = ChunkLimit(count, dstLin, di, m, size);
                    if (n != 0 && TryFillChunk(cpu, dstLin, n, size, value))
                    {
                        di = (di + n * (ulong)size) & m;
                        count -= n;
                        continue;
                    }

                    n = n == 0 ? 1 : n;
                }

                for (; n != 0; n--)
                {
                    cpu.WriteSized(cpu.Linear(Seg.Es, di), size, value);
                    di = (di + step) & m;
                    count--;
                }
            }
        }
        finally
        {
            EndString(cpu, ref op, count, Gpr.Rdi, di);
        }
    }

    private static bool TryFillChunk(Cpu cpu, ulong dstLin, ulong n, int size, ulong value)
    {
        byte* dst = cpu.Translate(dstLin, Cpu.Access.Write).WriteHost;
        if (dst == null)
        {
            return false;
        }

        dst += dstLin & 0xFFF;
        int count = (int)n;
        switch (size)
        {
            case 1:
                new Span<byte>(dst, count).Fill((byte)value);
                break;
            case 2:
                new Span<ushort>(dst, count).Fill((ushort)value);
                break;
            case 4:
                new Span<uint>(dst, count).Fill((uint)value);
                break;
            default:
                new Span<ulong>(dst, count).Fill(value);
                break;
        }

        return true;
    }

    private static void Lods(Cpu cpu, ref DecodedOp op)
    {
        ulong count = BeginString(cpu, ref op, out ulong m, out ulong step);
        if (count == 0)
        {
            return;
        }

        int size = op.MemSize;
        ulong si = cpu._gpr[Gpr.Rsi] & m;
        try
        {
            while (count != 0)
            {
                cpu.WriteGpr(Gpr.Rax, size, cpu.ReadSized(cpu.Linear(op.MemSeg, si), size));
                si = (si + step) & m;
                count--;
            }
        }
        finally
        {
            EndString(cpu, ref op, count, Gpr.Rsi, si);
        }
    }

    /// <summary>
    /// CMPS compares [seg:SI] with [ES:DI] and sets flags as CMP source-element, destination-element.
    /// REPE (Rep = 1) stops after a mismatch, REPNE (Rep = 2) after a match; flags are those of the
    /// last comparison.
    /// </summary>
    private static void Cmps(Cpu cpu, ref DecodedOp op)
    {
        ulong count = BeginString(cpu, ref op, out ulong m, out ulong step);
        if (count == 0)
        {
            return;
        }

        int size = op.MemSize;
        ulong si = cpu._gpr[Gpr.Rsi] & m, di = cpu._gpr[Gpr.Rdi] & m;
        bool stopOnEqual = op.Rep == 2;
        ulong x = 0, y = 0;
        try
        {
            while (count != 0)
            {
                x = cpu.ReadSized(cpu.Linear(op.MemSeg, si), size);
                y = cpu.ReadSized(cpu.Linear(Seg.Es, di), size);
                si = (si + step) & m;
                di = (di + step) & m;
                count--;
                if ((x == y) == stopOnEqual)
                {
                    break;
                }
            }
        }
        finally
        {
            EndString(cpu, ref op, count, si, di);
        }

        cpu.SetLazy(LazyOp.Sub, size, x, y, x - y);
    }

    /// <summary>SCAS compares the accumulator with [ES:DI] (flags as CMP accumulator, element), REPE/REPNE as CMPS.</summary>
    private static void Scas(Cpu cpu, ref DecodedOp op)
    {
        ulong count = BeginString(cpu, ref op, out ulong m, out ulong step);
        if (count == 0)
        {
            return;
        }

        int size = op.MemSize;
        ulong di = cpu._gpr[Gpr.Rdi] & m;
        ulong acc = cpu._gpr[Gpr.Rax] & Cpu.Mask(size);
        bool stopOnEqual = op.Rep == 2;
        ulong y = 0;
        try
        {
            while (count != 0)
            {
                y = cpu.ReadSized(cpu.Linear(Seg.Es, di), size);
                di = (di + step) & m;
                count--;
                if ((acc == y) == stopOnEqual)
                {
                    break;
                }
            }
        }
        finally
        {
            EndString(cpu, ref op, count, Gpr.Rdi, di);
        }

        cpu.SetLazy(LazyOp.Sub, size, acc, y, acc - y);
    }
}
