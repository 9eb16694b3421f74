using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// MUL, IMUL (one, two and three operands), DIV, IDIV, and the BCD adjustments DAA, DAS, AAA,
/// AAS, AAM, AAD and SALC (Intel SDM Vol. 2). Flags the SDM leaves undefined follow QEMU 7.2:
/// multiplies set ZF/SF/PF from the low half and clear AF; divides leave every flag alone.
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterMulDiv(HandlerRegistry r)
    {
        r.Add(Mnemonic.Mul,  &Mul<S1>,  &Mul<S2>,  &Mul<S4>,  &Mul<S8>);
        r.Add(Mnemonic.Imul, &Imul1<S1>, &Imul1<S2>, &Imul1<S4>, &Imul1<S8>);
        r.Add(Code.Imul_r16_rm16,       &Imul2<S2>);
        r.Add(Code.Imul_r32_rm32,       &Imul2<S4>);
        r.Add(Code.Imul_r64_rm64,       &Imul2<S8>);
        r.Add(Code.Imul_r16_rm16_imm16, &Imul3<S2>);
        r.Add(Code.Imul_r16_rm16_imm8,  &Imul3<S2>);
        r.Add(Code.Imul_r32_rm32_imm32, &Imul3<S4>);
        r.Add(Code.Imul_r32_rm32_imm8,  &Imul3<S4>);
        r.Add(Code.Imul_r64_rm64_imm32, &Imul3<S8>);
        r.Add(Code.Imul_r64_rm64_imm8,  &Imul3<S8>);
        r.Add(Mnemonic.Div,  &Div<S1>,  &Div<S2>,  &Div<S4>,  &Div<S8>);
        r.Add(Mnemonic.Idiv, &Idiv<S1>, &Idiv<S2>, &Idiv<S4>, &Idiv<S8>);
        r.Add(Code.Daa,       &Daa);
        r.Add(Code.Das,       &Das);
        r.Add(Code.Aaa,       &Aaa);
        r.Add(Code.Aas,       &Aas);
        r.Add(Code.Aam_imm8,  &Aam);
        r.Add(Code.Aad_imm8,  &Aad);
        r.Add(Code.Salc,      &Salc);
    }

    /// <summary>Multiply flags: CF = OF = <paramref name="overflow"/>, ZF/SF/PF from the low half, AF = 0 (QEMU's compute_all_mul).</summary>
    private static void SetMulFlags(Cpu cpu, int size, ulong low, bool overflow) =>
        cpu.SetResultFlags(size, low, overflow ? RFlags.CF | RFlags.OF : 0);

    /// <summary>MUL r/m: unsigned AL/AX/EAX/RAX × r/m into AX, DX:AX, EDX:EAX or RDX:RAX.</summary>
    private static void Mul<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong src = cpu.ReadOp0(ref op, S.Size);
        ulong acc = cpu.ReadGpr(Gpr.Rax, S.Size);
        ulong low, high;
        if (S.Size == 8)
        {
            high = Math.BigMul(acc, src, out low);
        }
        else
        {
            ulong product = acc * src;
            low = product & Cpu.Mask(S.Size);
            high = product >> (S.Size * 8);
        }

        StoreWide<S>(cpu, low, high);
        SetMulFlags(cpu, S.Size, low, high != 0);
    }

    /// <summary>IMUL r/m: signed accumulator × r/m into the double-width accumulator pair.</summary>
    private static void Imul1<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        long src = SignExtend(cpu.ReadOp0(ref op, S.Size), S.Size);
        long acc = SignExtend(cpu.ReadGpr(Gpr.Rax, S.Size), S.Size);
        ulong low, high;
        bool overflow;
        if (S.Size == 8)
        {
            high = (ulong)Math.BigMul(acc, src, out long l);
            low = (ulong)l;
            overflow = (long)high != l >> 63;
        }
        else
        {
            long product = acc * src;
            low = (ulong)product & Cpu.Mask(S.Size);
            high = ((ulong)product >> (S.Size * 8)) & Cpu.Mask(S.Size);
            overflow = product != SignExtend((ulong)product, S.Size);
        }

        StoreWide<S>(cpu, low, high);
        SetMulFlags(cpu, S.Size, low, overflow);
    }

    /// <summary>IMUL r, r/m: truncated signed product into the register.</summary>
    private static void Imul2<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        Imul2Jit<S>(cpu, op.Kind1, op.Reg0, op.Reg1, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    /// <summary>IMUL r, r/m, imm: truncated signed product of r/m and the (sign-extended) immediate.</summary>
    private static void Imul3<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize =>
        Imul3Jit<S>(cpu, op.Kind1, op.Reg0, op.Reg1, op.Imm, op.MemBase, op.MemIndex, op.MemScaleShift, op.Disp, op.EaMaskShift, op.MemSeg, NextRip(cpu, ref op), cpu._bitness);

    private static void ImulTruncated<S>(Cpu cpu, int reg, long a, long b)
        where S : struct, IOpSize
    {
        ulong low;
        bool overflow;
        if (S.Size == 8)
        {
            long high = Math.BigMul(a, b, out long l);
            low = (ulong)l;
            overflow = high != l >> 63;
        }
        else
        {
            long product = a * b;
            low = (ulong)product;
            overflow = product != SignExtend(low, S.Size);
        }

        cpu.WriteGpr(reg, S.Size, low);
        SetMulFlags(cpu, S.Size, low, overflow);
    }

    /// <summary>Writes a double-width result: AX for bytes, else the DX:AX pair at the operand size.</summary>
    private static void StoreWide<S>(Cpu cpu, ulong low, ulong high)
        where S : struct, IOpSize
    {
        if (S.Size == 1)
        {
            cpu.WriteGpr(Gpr.Rax, 2, (high << 8) | low);
        }
        else
        {
            cpu.WriteGpr(Gpr.Rax, S.Size, low);
            cpu.WriteGpr(Gpr.Rdx, S.Size, high);
        }
    }

    /// <summary>DIV r/m: #DE on a zero divisor or a quotient that does not fit; flags untouched (QEMU).</summary>
    private static void Div<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        ulong den = cpu.ReadOp0(ref op, S.Size);
        if (den == 0)
        {
            throw new GuestFault(Vector.DE);
        }

        ulong q, r;
        if (S.Size == 8)
        {
            ulong hi = cpu._gpr[Gpr.Rdx], lo = cpu._gpr[Gpr.Rax];
            if (hi >= den)
            {
                throw new GuestFault(Vector.DE);
            }

            var num = ((UInt128)hi << 64) | lo;
            q = (ulong)(num / den);
            r = (ulong)(num % den);
        }
        else
        {
            ulong num = S.Size == 1
                ? cpu.ReadGpr(Gpr.Rax, 2)
                : (cpu.ReadGpr(Gpr.Rdx, S.Size) << (S.Size * 8)) | cpu.ReadGpr(Gpr.Rax, S.Size);
            q = num / den;
            r = num % den;
            if (q > Cpu.Mask(S.Size))
            {
                throw new GuestFault(Vector.DE);
            }
        }

        StoreWide<S>(cpu, q, r);
    }

    /// <summary>IDIV r/m: signed, quotient truncated toward zero, remainder with the dividend's sign.</summary>
    private static void Idiv<S>(Cpu cpu, ref DecodedOp op)
        where S : struct, IOpSize
    {
        long den = SignExtend(cpu.ReadOp0(ref op, S.Size), S.Size);
        if (den == 0)
        {
            throw new GuestFault(Vector.DE);
        }

        long q, r;
        if (S.Size == 8)
        {
            var num = (Int128)(long)cpu._gpr[Gpr.Rdx] << 64 | cpu._gpr[Gpr.Rax];

            // -1 separately: Int128.MinValue / -1 would overflow the host division.
            Int128 q128 = den == -1 ? -num : num / den;
            if (q128 < long.MinValue || q128 > long.MaxValue || (den == -1 && num == Int128.MinValue))
            {
                throw new GuestFault(Vector.DE);
            }

            q = (long)q128;
            r = den == -1 ? 0 : (long)(num % den);
        }
        else
        {
            long num = S.Size == 1
                ? SignExtend(cpu.ReadGpr(Gpr.Rax, 2), 2)
                : SignExtend((cpu.ReadGpr(Gpr.Rdx, S.Size) << (S.Size * 8)) | cpu.ReadGpr(Gpr.Rax, S.Size), S.Size * 2);
            if (den == -1 && num == long.MinValue)
            {
                throw new GuestFault(Vector.DE);
            }

            q = num / den;
            r = num % den;
            if (q != SignExtend((ulong)q, S.Size))
            {
                throw new GuestFault(Vector.DE);
            }
        }

        StoreWide<S>(cpu, (ulong)q & Cpu.Mask(S.Size), (ulong)r & Cpu.Mask(S.Size));
    }

    /// <summary>DAA (QEMU helper_daa): adjusts AL after a packed-BCD add; OF cleared.</summary>
    private static void Daa(Cpu cpu, ref DecodedOp op)
    {
        cpu.MaterializeFlags();
        int al = (byte)cpu._gpr[Gpr.Rax], oldAl = al;
        ulong f = 0;
        if ((al & 0x0F) > 9 || (cpu._flags & RFlags.AF) != 0)
        {
            al = (al + 6) & 0xFF;
            f |= RFlags.AF;
        }

        if (oldAl > 0x99 || (cpu._flags & RFlags.CF) != 0)
        {
            al = (al + 0x60) & 0xFF;
            f |= RFlags.CF;
        }

        cpu.WriteGpr(Gpr.Rax, 1, (ulong)al);
        cpu._flags = (cpu._flags & ~RFlags.Arith) | f | ZspFlags(al);
    }

    /// <summary>DAS (QEMU helper_das): adjusts AL after a packed-BCD subtract; OF cleared.</summary>
    private static void Das(Cpu cpu, ref DecodedOp op)
    {
        cpu.MaterializeFlags();
        int al = (byte)cpu._gpr[Gpr.Rax], oldAl = al;
        bool cf = (cpu._flags & RFlags.CF) != 0;
        ulong f = 0;
        if ((al & 0x0F) > 9 || (cpu._flags & RFlags.AF) != 0)
        {
            f |= RFlags.AF;
            if (al < 6 || cf)
            {
                f |= RFlags.CF;
            }

            al = (al - 6) & 0xFF;
        }

        if (oldAl > 0x99 || cf)
        {
            al = (al - 0x60) & 0xFF;
            f |= RFlags.CF;
        }

        cpu.WriteGpr(Gpr.Rax, 1, (ulong)al);
        cpu._flags = (cpu._flags & ~RFlags.Arith) | f | ZspFlags(al);
    }

    /// <summary>AAA (QEMU helper_aaa): only CF and AF change.</summary>
    private static void Aaa(Cpu cpu, ref DecodedOp op) => AsciiAdjust(cpu, add: true);

    /// <summary>AAS (QEMU helper_aas): only CF and AF change.</summary>
    private static void Aas(Cpu cpu, ref DecodedOp op) => AsciiAdjust(cpu, add: false);

    private static void AsciiAdjust(Cpu cpu, bool add)
    {
        cpu.MaterializeFlags();
        int al = (byte)cpu._gpr[Gpr.Rax];
        int ah = (byte)(cpu._gpr[Gpr.Rax] >> 8);
        if ((al & 0x0F) > 9 || (cpu._flags & RFlags.AF) != 0)
        {
            int carry = add ? (al > 0xF9 ? 1 : 0) : (al < 6 ? 1 : 0);
            al = (add ? al + 6 : al - 6) & 0x0F;
            ah = (add ? ah + 1 + carry : ah - 1 - carry) & 0xFF;
            cpu._flags |= RFlags.CF | RFlags.AF;
        }
        else
        {
            al &= 0x0F;
            cpu._flags &= ~(RFlags.CF | RFlags.AF);
        }

        cpu.WriteGpr(Gpr.Rax, 2, (ulong)((ah << 8) | al));
    }

    /// <summary>AAM imm8: AH = AL / imm, AL = AL % imm; #DE for 0; flags as a logic result of AL.</summary>
    private static void Aam(Cpu cpu, ref DecodedOp op)
    {
        int imm = (byte)op.Imm;
        if (imm == 0)
        {
            throw new GuestFault(Vector.DE);
        }

        int al = (byte)cpu._gpr[Gpr.Rax];
        int result = ((al / imm) << 8) | (al % imm);
        cpu.WriteGpr(Gpr.Rax, 2, (ulong)result);
        cpu.SetLogicFlags(1, (ulong)(al % imm));
    }

    /// <summary>AAD imm8: AL = AH × imm + AL, AH = 0; flags as a logic result of AL.</summary>
    private static void Aad(Cpu cpu, ref DecodedOp op)
    {
        int al = (byte)cpu._gpr[Gpr.Rax];
        int ah = (byte)(cpu._gpr[Gpr.Rax] >> 8);
        ulong result = (ulong)((ah * (byte)op.Imm + al) & 0xFF);
        cpu.WriteGpr(Gpr.Rax, 2, result);
        cpu.SetLogicFlags(1, result);
    }

    /// <summary>SALC (undocumented D6, outside 64-bit mode): AL = CF ? FF : 00; flags unchanged.</summary>
    private static void Salc(Cpu cpu, ref DecodedOp op) =>
        cpu.WriteGpr(Gpr.Rax, 1, cpu.GetCF() ? 0xFFUL : 0UL);

    /// <summary>ZF, SF and PF of a byte result, as materialised flag bits.</summary>
    private static ulong ZspFlags(int value)
    {
        ulong f = (ulong)value & RFlags.SF;
        if (value == 0)
        {
            f |= RFlags.ZF;
        }

        if ((System.Numerics.BitOperations.PopCount((uint)value) & 1) == 0)
        {
            f |= RFlags.PF;
        }

        return f;
    }
}
