using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Emulator.Core.Cpu;

/// <summary>
/// The register file an integer SIMD form works on, chosen per form at registration so every
/// operation has one body for its MMX (64-bit) and SSE (128-bit) forms. Values travel as a
/// <see cref="Vector128{T}"/> of bytes; an MMX value is its low 8 bytes (the high 8 are zero on
/// reading and dropped on writing), and <see cref="ISimdWidth.Bytes"/> tells the cross-lane
/// operations (packs, unpacks, PSADBW, PINSRW) how many bytes are live.
/// The checks each form makes before it touches an operand are QEMU 7.2's (target/i386/tcg/
/// decode-new.c.inc, <c>validate_vex</c> and <c>disas_insn_new</c>): an SSE form #UD without
/// CR4.OSFXSR, then #NM with CR0.TS, then #UD with CR0.EM; an MMX form skips the OSFXSR test and
/// then runs <c>helper_enter_mmx</c> (TOP = 0, every tag valid) before its memory operand is read,
/// so a faulting load still leaves the x87 state switched. No form checks for a pending x87
/// exception (#MF): QEMU's enter_mmx does not look at FSW.ES.
/// </summary>
internal static unsafe partial class Handlers
{
    internal interface ISimdWidth
    {
        /// <summary>Live bytes: 8 for MMX, 16 for XMM.</summary>
        static abstract int Bytes { get; }

        /// <summary>The exception checks (and, for MMX, the switch to MMX state) before any operand is read.</summary>
        static abstract void Enter(Cpu cpu);

        static abstract Vector128<byte> Get(Cpu cpu, int reg);

        static abstract void Set(Cpu cpu, int reg, Vector128<byte> value);

        /// <summary>A full-width memory operand at <paramref name="lin"/> (alignment as the form's QEMU decoding checks it).</summary>
        static abstract Vector128<byte> Load(Cpu cpu, ulong lin);
    }

    /// <summary>The MMX registers: the significands of the x87 registers (docs/x87.md, "MMX aliasing").</summary>
    internal struct Mmx : ISimdWidth
    {
        public static int Bytes => 8;

        public static void Enter(Cpu cpu)
        {
            MmxChecks(cpu);
            cpu.Fpu.EnterMmx();
        }

        public static Vector128<byte> Get(Cpu cpu, int reg) => Vector128.CreateScalar(cpu.Fpu.ReadMmx(reg)).AsByte();

        public static void Set(Cpu cpu, int reg, Vector128<byte> value) => cpu.Fpu.WriteMmx(reg, value.AsUInt64().ToScalar());

        public static Vector128<byte> Load(Cpu cpu, ulong lin) => Vector128.CreateScalar(cpu.Read64(lin)).AsByte();
    }

    /// <summary>The XMM registers; an m128 operand must be 16-byte aligned (QEMU's vex1/vex4 classes without SSEUnaligned, the SDM's rule).</summary>
    internal struct Xmm : ISimdWidth
    {
        public static int Bytes => 16;

        public static void Enter(Cpu cpu) => SseChecks(cpu);

        public static Vector128<byte> Get(Cpu cpu, int reg) => Vec(cpu.Fpu.Xmm[reg]);

        public static void Set(Cpu cpu, int reg, Vector128<byte> value) => cpu.Fpu.Xmm[reg] = Bits(value);

        public static Vector128<byte> Load(Cpu cpu, ulong lin)
        {
            if ((lin & 15) != 0)
            {
                throw new GuestFault(Vector.GP, 0);
            }

            return Vec(Read128(cpu, lin));
        }
    }

    /// <summary>
    /// The XMM registers with an m128 operand QEMU 7.2 loads without an alignment check: its vex7
    /// class (PSRAW/PSRAD/PSLLW/PSLLD/PSLLQ by a register count), vex4_unal (MASKMOVDQU, LDDQU), and
    /// the forms measured unchecked (<see cref="QemuUnchecked"/>).
    /// </summary>
    internal struct XmmUnaligned : ISimdWidth
    {
        public static int Bytes => 16;

        public static void Enter(Cpu cpu) => SseChecks(cpu);

        public static Vector128<byte> Get(Cpu cpu, int reg) => Vec(cpu.Fpu.Xmm[reg]);

        public static void Set(Cpu cpu, int reg, Vector128<byte> value) => cpu.Fpu.Xmm[reg] = Bits(value);

        public static Vector128<byte> Load(Cpu cpu, ulong lin) => Vec(Read128(cpu, lin));
    }

    /// <summary>QEMU 7.2 validate_vex for a legacy SSE form: #UD without CR4.OSFXSR, #NM with CR0.TS, #UD with CR0.EM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SseChecks(Cpu cpu)
    {
        if ((cpu._cr4 & CrBits.Cr4OsFxsr) == 0 || (cpu._cr0 & (CrBits.TS | CrBits.EM)) != 0)
        {
            SseFault(cpu, (cpu._cr4 & CrBits.Cr4OsFxsr) == 0);
        }
    }

    /// <summary>QEMU 7.2 validate_vex for an MMX form (no OSFXSR test): #NM with CR0.TS, then #UD with CR0.EM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MmxChecks(Cpu cpu)
    {
        if ((cpu._cr0 & (CrBits.TS | CrBits.EM)) != 0)
        {
            SseFault(cpu, false);
        }
    }

    private static void SseFault(Cpu cpu, bool noOsfxsr)
    {
        if (noOsfxsr)
        {
            throw new GuestFault(Vector.UD);
        }

        throw new GuestFault((cpu._cr0 & CrBits.TS) != 0 ? Vector.NM : Vector.UD);
    }

    /// <summary>Operand 1 of a form: its register, or memory at the width's size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Source<TW>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth =>
        op.Kind1 == OperandKind.Memory ? TW.Load(cpu, cpu.MemLinear(ref op)) : TW.Get(cpu, op.Reg1);
}
