using System.Runtime.Intrinsics;

namespace Emulator.Core.Cpu;

/// <summary>
/// PSLLW/D/Q, PSRLW/D/Q, PSRAW/D by a register or memory count and by an immediate, MMX and SSE
/// with one body each (QEMU 7.2 ops_sse.h helper_psrlw_* etc. and emit.c.inc gen_PS*_i): the count
/// is the whole low quadword of the source (or the unsigned imm8); a logical shift by at least the
/// element width gives zero, an arithmetic one fills with the sign (shifts by width − 1).
/// </summary>
internal static unsafe partial class Handlers
{
    /// <summary>PSxx mm/xmm, imm8: the count is the immediate (Iced's operand 1), the register is both source and destination.</summary>
    private static void SimdShiftImm<TW, TOp>(Cpu cpu, ref DecodedOp op)
        where TW : struct, ISimdWidth
        where TOp : struct, ISimdOp
    {
        TW.Enter(cpu);
        var count = Vector128.CreateScalar(op.Imm & 0xFF).AsByte();
        TW.Set(cpu, op.Reg0, TOp.Apply(TW.Get(cpu, op.Reg0), count, TW.Bytes));
    }

    private static ulong Count(Vector128<byte> s) => s.AsUInt64().ToScalar();

    internal struct ShlW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Count(s) > 15 ? default : (d.AsUInt16() << (int)Count(s)).AsByte(); }

    internal struct ShlD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Count(s) > 31 ? default : (d.AsUInt32() << (int)Count(s)).AsByte(); }

    internal struct ShlQ : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Count(s) > 63 ? default : (d.AsUInt64() << (int)Count(s)).AsByte(); }

    internal struct ShrW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Count(s) > 15 ? default : (d.AsUInt16() >>> (int)Count(s)).AsByte(); }

    internal struct ShrD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Count(s) > 31 ? default : (d.AsUInt32() >>> (int)Count(s)).AsByte(); }

    internal struct ShrQ : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => Count(s) > 63 ? default : (d.AsUInt64() >>> (int)Count(s)).AsByte(); }

    internal struct SarW : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsInt16() >> (int)Math.Min(Count(s), 15)).AsByte(); }

    internal struct SarD : ISimdOp { public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int n) => (d.AsInt32() >> (int)Math.Min(Count(s), 31)).AsByte(); }
}
