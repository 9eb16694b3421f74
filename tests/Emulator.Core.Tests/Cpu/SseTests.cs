using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Float;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>SSE2 moves and integer ops as BaseMemoryLib uses them, MXCSR, and the FXSAVE image.</summary>
[Trait("Category", "Unit")]
public class SseTests
{
    private const ulong Data = 0x200000;

    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = (byte)((i * 13) + seed);
        }

        return b;
    }

    private static UInt128 U(byte[] b, int offset = 0) => BitConverter.ToUInt128(b, offset);

    private static TestMachine Run(Action<Iced.Intel.Assembler> body, params byte[][] data)
    {
        var m = new TestMachine();
        for (int i = 0; i < data.Length; i++)
        {
            m.Load(Data + (ulong)(i * 16), data[i]);
        }

        m.LoadLong64(a =>
        {
            a.mov(rsi, (long)Data);
            body(a);
            a.hlt();
        });
        m.EnableSse();
        Assert.Equal(StopReason.Halted, m.Run());
        return m;
    }

    [Fact]
    public void Moves_UnalignedAlignedNonTemporalAndGpr()
    {
        var src = Bytes(48, 5);
        using var m = new TestMachine();
        m.Load(Data, src);
        m.LoadLong64(a =>
        {
            a.movdqu(xmm0, __xmmword_ptr[Data + 3]);
            a.movdqu(__xmmword_ptr[Data + 0x101], xmm0);
            a.movdqa(xmm9, __xmmword_ptr[Data + 16]);
            a.movntdq(__xmmword_ptr[Data + 0x200], xmm9);
            a.movntpd(__xmmword_ptr[Data + 0x400], xmm9);
            a.movaps(xmm2, xmm9);
            a.movups(__xmmword_ptr[Data + 0x301], xmm2);
            a.mov(rax, 0x1122334455667788L);
            a.movq(xmm3, rax);
            a.movd(xmm4, eax);
            a.movd(ebx, xmm3);
            a.movq(rcx, xmm9);
            a.movq(xmm5, xmm9);
            a.punpcklqdq(xmm3, xmm3);
            a.movlhps(xmm6, xmm3);
            a.hlt();
        });
        m.EnableSse();
        m.Run();
        var x = m.Cpu.Fpu.Xmm;
        Assert.Equal(U(src, 3), x[0]);
        Assert.Equal(src[3..19], m.Cpu.ReadLinearForDebugger(Data + 0x101, 16));
        Assert.Equal(src[16..32], m.Cpu.ReadLinearForDebugger(Data + 0x200, 16));
        Assert.Equal(src[16..32], m.Cpu.ReadLinearForDebugger(Data + 0x400, 16));
        Assert.Equal(src[16..32], m.Cpu.ReadLinearForDebugger(Data + 0x301, 16));
        Assert.Equal(new UInt128(0x1122334455667788, 0x1122334455667788), x[3]);
        Assert.Equal((UInt128)0x55667788, x[4]);
        Assert.Equal(0x55667788UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(BitConverter.ToUInt64(src, 16), m.Cpu.GetGpr(Gpr.Rcx));
        Assert.Equal((UInt128)BitConverter.ToUInt64(src, 16), x[5]);
        Assert.Equal(0x1122334455667788UL, (ulong)(x[6] >> 64));
    }

    [Fact]
    public void Movdqa_Misaligned_RaisesGp()
    {
        using var m = new TestMachine();
        const ulong handler = 0x180000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        m.LoadLong64(a =>
        {
            a.movdqa(xmm0, __xmmword_ptr[Data + 8]);
            a.hlt();
        });
        SystemTestSupport.InstallLongIdt(m, handler);
        m.EnableSse();
        m.Run();
        Assert.Equal(Vector.GP, m.Cpu.LastException);
    }

    [Fact]
    public void StrlenStyle_PcmpeqbPmovmskb()
    {
        var s = "0123456789\0abcde"u8.ToArray();
        using var m = Run(
            a =>
            {
                a.pxor(xmm0, xmm0);
                a.movdqu(xmm1, __xmmword_ptr[rsi]);
                a.pcmpeqb(xmm1, xmm0);
                a.pmovmskb(eax, xmm1);
            },
            s);
        Assert.Equal(1UL << 10, m.Cpu.GetGpr(Gpr.Rax));
    }

    [Fact]
    public void IntegerOps_MatchScalarModel()
    {
        var a0 = Bytes(16, 200);
        var b0 = Bytes(16, 77);
        using var m = Run(
            a =>
            {
                a.movdqu(xmm0, __xmmword_ptr[rsi]);
                a.movdqu(xmm1, __xmmword_ptr[rsi + 16]);
                foreach (var r in new[] { xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm10, xmm11, xmm12 })
                {
                    a.movdqa(r, xmm0);
                }

                a.paddb(xmm2, xmm1);
                a.paddd(xmm3, xmm1);
                a.psubq(xmm4, xmm1);
                a.psubw(xmm5, xmm1);
                a.punpcklbw(xmm6, xmm1);
                a.pshufd(xmm7, xmm1, 0x1B);
                a.pand(xmm8, xmm1);
                a.pcmpgtb(xmm10, xmm1);
                a.pslldq(xmm11, 3);
                a.pminub(xmm12, xmm1);
            },
            a0,
            b0);
        var x = m.Cpu.Fpu.Xmm;
        var r = new byte[16];
        for (int i = 0; i < 16; i++)
        {
            r[i] = (byte)(a0[i] + b0[i]);
        }

        Assert.Equal(U(r), x[2]);
        for (int i = 0; i < 4; i++)
        {
            BitConverter.TryWriteBytes(r.AsSpan(i * 4), BitConverter.ToUInt32(a0, i * 4) + BitConverter.ToUInt32(b0, i * 4));
        }

        Assert.Equal(U(r), x[3]);
        for (int i = 0; i < 2; i++)
        {
            BitConverter.TryWriteBytes(r.AsSpan(i * 8), BitConverter.ToUInt64(a0, i * 8) - BitConverter.ToUInt64(b0, i * 8));
        }

        Assert.Equal(U(r), x[4]);
        for (int i = 0; i < 8; i++)
        {
            BitConverter.TryWriteBytes(r.AsSpan(i * 2), (ushort)(BitConverter.ToUInt16(a0, i * 2) - BitConverter.ToUInt16(b0, i * 2)));
        }

        Assert.Equal(U(r), x[5]);
        for (int i = 0; i < 8; i++)
        {
            r[2 * i] = a0[i];
            r[(2 * i) + 1] = b0[i];
        }

        Assert.Equal(U(r), x[6]);
        for (int i = 0; i < 4; i++)
        {
            BitConverter.TryWriteBytes(r.AsSpan(i * 4), BitConverter.ToUInt32(b0, (3 - i) * 4));
        }

        Assert.Equal(U(r), x[7]);
        Assert.Equal(U(a0) & U(b0), x[8]);
        for (int i = 0; i < 16; i++)
        {
            r[i] = (sbyte)a0[i] > (sbyte)b0[i] ? (byte)0xFF : (byte)0;
        }

        Assert.Equal(U(r), x[10]);
        Assert.Equal(U(a0) << 24, x[11]);
        for (int i = 0; i < 16; i++)
        {
            r[i] = Math.Min(a0[i], b0[i]);
        }

        Assert.Equal(U(r), x[12]);
    }

    [Fact]
    public void Mxcsr_LoadStore()
    {
        using var m = Run(a =>
        {
            a.mov(__dword_ptr[rsi], 0x9FC0);
            a.ldmxcsr(__dword_ptr[rsi]);
            a.stmxcsr(__dword_ptr[rsi + 4]);
        });
        Assert.Equal(0x9FC0u, m.Cpu.Fpu.Mxcsr);
        Assert.Equal(0x9FC0u, m.ReadU32(Data + 4));
    }

    [Fact]
    public void Fxsave_LayoutAndFxrstorRoundTrip()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.fninit();
            a.fld1();
            a.fldz();
            a.fxsave(__[Data]);
            a.fninit();
            a.pxor(xmm15, xmm15);
            a.fxrstor(__[Data]);
            a.hlt();
        });
        m.Cpu._cr4 |= CrBits.Cr4OsFxsr;
        m.Cpu.Fpu.Xmm[15] = new UInt128(0x0102030405060708, 0x1112131415161718);
        m.EnableSse();
        m.Run();
        Assert.Equal(0x037FUL, m.ReadU64(Data) & 0xFFFF);
        Assert.Equal(6UL << 11, (m.ReadU64(Data) >> 16) & 0xFFFF);
        Assert.Equal(0xC0UL, (m.ReadU64(Data) >> 32) & 0xFFFF);
        Assert.Equal(0x1F80u, m.ReadU32(Data + 24));
        Assert.Equal(0xFFFFu, m.ReadU32(Data + 28));
        Assert.Equal(0UL, m.ReadU64(Data + 32));
        Assert.Equal(0x8000000000000000UL, m.ReadU64(Data + 48));
        Assert.Equal(0x3FFFUL, m.ReadU64(Data + 56) & 0xFFFF);
        Assert.Equal(0x1112131415161718UL, m.ReadU64(Data + 160 + (15 * 16)));
        Assert.Equal(new UInt128(0x0102030405060708, 0x1112131415161718), m.Cpu.Fpu.Xmm[15]);
        Assert.Equal(6, m.Cpu.Fpu.Top);
        Assert.Equal(0xC0, m.Cpu.Fpu.TagValid);
        Assert.Equal(new Float80(1UL << 63, 0x3FFF), m.Cpu.Fpu.St[7]);
    }
}
