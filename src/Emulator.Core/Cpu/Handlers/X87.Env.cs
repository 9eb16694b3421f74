using Emulator.Core.Cpu.Float;
using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The x87 environment and state images and packed BCD, as QEMU 7.2's fpu_helper.c writes and
/// reads them: FNSTENV/FLDENV and FNSAVE/FRSTOR (do_fstenv, do_fldenv, do_fsave, do_frstor) in
/// the 16-bit layout (operand size 16) or the 32-bit one, the same in real and protected mode;
/// FBLD/FBSTP (helper_fbld_ST0, helper_fbst_ST0). Memory is accessed field by field in QEMU's
/// order, so a fault part way leaves what QEMU leaves.
/// </summary>
internal static unsafe partial class Handlers
{
    private static void RegisterX87Environment(HandlerRegistry r)
    {
        r.Add(Mnemonic.Fnstenv, &Fnstenv);
        r.Add(Mnemonic.Fstenv, &X87WaitForm);
        r.Add(Mnemonic.Fldenv, &Fldenv);
        r.Add(Mnemonic.Fnsave, &Fnsave);
        r.Add(Mnemonic.Fsave, &X87WaitForm);
        r.Add(Mnemonic.Frstor, &Frstor);
    }

    /// <summary>The 32-bit layout unless the operand is the 14/94-byte (16-bit operand size) one.</summary>
    private static bool X87Layout32(ref DecodedOp op) =>
        op.Insn.MemorySize is not (MemorySize.FpuEnv14 or MemorySize.FpuState94);

    /// <summary>do_fstenv: FCW, FSW with TOP, the full tag word, FIP, FCS, FDP, FDS (no FOP), each a dword or a word.</summary>
    private static void X87StoreEnvironment(Cpu cpu, FpuState fpu, ulong lin, bool layout32)
    {
        Span<ulong> fields = [fpu.ControlWord, X87StatusWord(fpu), (ulong)fpu.FullTagWord(), fpu.Fip, fpu.Fcs, fpu.Fdp, fpu.Fds];
        int size = layout32 ? 4 : 2;
        for (int i = 0; i < fields.Length; i++)
        {
            cpu.WriteSized(cpu.WrapLinear(lin + (ulong)(i * size)), size, fields[i] & (layout32 ? 0xFFFF_FFFFUL : 0xFFFFUL));
        }
    }

    /// <summary>do_fldenv: FCW (set at once), FSW (TOP, B = ES), then the tags: empty where the field is 3. FIP/FDP are not loaded.</summary>
    private static void X87LoadEnvironment(Cpu cpu, FpuState fpu, ulong lin, bool layout32)
    {
        ulong step = layout32 ? 4UL : 2UL;
        fpu.ControlWord = cpu.Read16(lin);
        ushort fsw = cpu.Read16(cpu.WrapLinear(lin + step));
        int tags = cpu.Read16(cpu.WrapLinear(lin + (2 * step)));
        fpu.LoadStatusWord(fsw);
        byte valid = 0;
        for (int i = 0; i < 8; i++)
        {
            if (((tags >> (2 * i)) & 3) != 3)
            {
                valid |= (byte)(1 << i);
            }
        }

        fpu.TagValid = valid;
    }

    private static void Fnstenv(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        X87StoreEnvironment(cpu, fpu, cpu.MemLinear(ref op), X87Layout32(ref op));
    }

    private static void Fldenv(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        X87LoadEnvironment(cpu, fpu, cpu.MemLinear(ref op), X87Layout32(ref op));
    }

    /// <summary>do_fsave: the environment, ST(0)–ST(7) as 10-byte values after it, then FNINIT.</summary>
    private static void Fnsave(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        bool layout32 = X87Layout32(ref op);
        ulong lin = cpu.MemLinear(ref op);
        X87StoreEnvironment(cpu, fpu, lin, layout32);
        ulong regs = lin + (layout32 ? 28UL : 14UL);
        for (int i = 0; i < 8; i++)
        {
            WriteFloat80(cpu, cpu.WrapLinear(regs + (ulong)(i * 10)), St(fpu, i));
        }

        fpu.Initialize();
    }

    /// <summary>do_frstor: the environment (TOP first), then ST(0)–ST(7) one by one.</summary>
    private static void Frstor(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        bool layout32 = X87Layout32(ref op);
        ulong lin = cpu.MemLinear(ref op);
        X87LoadEnvironment(cpu, fpu, lin, layout32);
        ulong regs = lin + (layout32 ? 28UL : 14UL);
        for (int i = 0; i < 8; i++)
        {
            St(fpu, i) = ReadFloat80(cpu, cpu.WrapLinear(regs + (ulong)(i * 10)));
        }
    }

    /// <summary>
    /// helper_fbld_ST0: 18 digits from bytes 8 down to 0, each nibble taken as its value (no
    /// check), converted at FCW's precision and rounding (flags dropped), negated when byte 9's top
    /// bit is set, then pushed.
    /// </summary>
    private static void Fbld(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        ulong lin = cpu.MemLinear(ref op);
        ulong value = 0;
        for (int i = 8; i >= 0; i--)
        {
            byte b = cpu.Read8(cpu.WrapLinear(lin + (ulong)i));
            value = (value * 100) + ((ulong)(b >> 4) * 10) + (ulong)(b & 0xF);
        }

        var env = X87Env(fpu);
        Float80 v = SoftFloat80.FromInt64((long)value, ref env);
        if ((cpu.Read8(cpu.WrapLinear(lin + 9)) & 0x80) != 0)
        {
            v = SoftFloat80.Negate(v);
        }

        PushSt(fpu, v);
        X87Pointers(cpu, fpu, ref op);
    }

    /// <summary>
    /// helper_fbst_ST0 then the pop: ST(0) rounded by FCW.RC to an integer; 18 digits or more
    /// store the packed-BCD indefinite (0xFFFF C0000000 00000000) with IE alone; otherwise the
    /// sign byte (from ST(0)'s sign, so −0.3 stores −0) and the digits, low pair first.
    /// </summary>
    private static void Fbstp(Cpu cpu, ref DecodedOp op)
    {
        var fpu = X87(cpu);
        var env = X87Env(fpu);
        ulong lin = cpu.MemLinear(ref op);
        Float80 st0 = St(fpu, 0);
        long value = SoftFloat80.ToInt(st0, env.Rounding, long.MinValue, long.MaxValue, ref env);
        if (value is >= 1000000000000000000L or <= -1000000000000000000L)
        {
            env.Flags = FloatExceptions.Invalid;
            for (int i = 0; i < 10; i++)
            {
                cpu.Write8(cpu.WrapLinear(lin + (ulong)i), i switch { < 7 => 0, 7 => 0xC0, _ => 0xFF });
            }
        }
        else
        {
            cpu.Write8(cpu.WrapLinear(lin + 9), st0.IsNegative ? (byte)0x80 : (byte)0);
            ulong magnitude = (ulong)(st0.IsNegative ? -value : value);
            for (int i = 0; i < 9; i++)
            {
                ulong pair = magnitude % 100;
                magnitude /= 100;
                cpu.Write8(cpu.WrapLinear(lin + (ulong)i), (byte)(((pair / 10) << 4) | (pair % 10)));
            }
        }

        X87Merge(fpu, env);
        PopSt(fpu);
        X87Pointers(cpu, fpu, ref op);
    }
}
