using System.Buffers.Binary;
using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Tests.Cpu.Float;

/// <summary>The operations of tools/x87-vectors/gen.c on SoftFloat80, as QEMU 7.2's x87 helpers call it.</summary>
internal static class X87VectorOps
{
    public static ushort Run(string op, ushort cw, Float80 a, Float80 b, ulong bits, Span<byte> result, out int length)
    {
        var env = X87FloatEnv.FromControlWord(cw);
        ushort codes = 0;
        length = 10;
        Float80 r = default;
        switch (op)
        {
            case "add": r = SoftFloat80.Add(a, b, ref env); break;
            case "sub": r = SoftFloat80.Sub(a, b, ref env); break;
            case "mul": r = SoftFloat80.Mul(a, b, ref env); break;
            case "div": r = SoftFloat80.Div(a, b, ref env); break;
            case "sqrt": r = SoftFloat80.Sqrt(a, ref env); break;
            case "frndint": r = SoftFloat80.RoundToInt(a, ref env); break;
            case "fld32": r = SoftFloat80.FromFloat32((uint)bits, ref env); break;
            case "fld64": r = SoftFloat80.FromFloat64(bits, ref env); break;
            case "fild64":
                env.Precision = X87Precision.Extended;
                r = SoftFloat80.FromInt64((long)bits, ref env);
                break;
            case "fst32":
                BinaryPrimitives.WriteUInt32LittleEndian(result, SoftFloat80.ToFloat32(a, ref env));
                length = 4;
                break;
            case "fst64":
                BinaryPrimitives.WriteUInt64LittleEndian(result, SoftFloat80.ToFloat64(a, ref env));
                length = 8;
                break;
            case "fist16":
            {
                long v = SoftFloat80.ToInt(a, env.Rounding, int.MinValue, int.MaxValue, ref env);
                if (v != (short)v)
                {
                    env.Flags = FloatExceptions.Invalid;
                    v = short.MinValue;
                }

                BinaryPrimitives.WriteInt16LittleEndian(result, (short)v);
                length = 2;
                break;
            }

            case "fist32":
            {
                long v = SoftFloat80.ToInt(a, env.Rounding, int.MinValue, int.MaxValue, ref env);
                BinaryPrimitives.WriteInt32LittleEndian(result, (env.Flags & FloatExceptions.Invalid) != 0 ? int.MinValue : (int)v);
                length = 4;
                break;
            }

            case "fist64":
            {
                long v = SoftFloat80.ToInt(a, env.Rounding, long.MinValue, long.MaxValue, ref env);
                BinaryPrimitives.WriteInt64LittleEndian(result, (env.Flags & FloatExceptions.Invalid) != 0 ? long.MinValue : v);
                length = 8;
                break;
            }

            default:
                codes = SoftFloat80.Compare(a, b, op == "fucom", ref env) switch
                {
                    -1 => 0x0100,
                    0 => 0x4000,
                    1 => 0,
                    _ => 0x4500,
                };
                length = 0;
                break;
        }

        if (length == 10)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(result, r.Significand);
            BinaryPrimitives.WriteUInt16LittleEndian(result[8..], r.SignExponent);
        }

        return (ushort)(((int)env.Flags & 0x3D) | codes);
    }
}
