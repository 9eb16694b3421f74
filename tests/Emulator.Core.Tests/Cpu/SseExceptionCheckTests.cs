using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// The CR0.EM/TS and CR4.OSFXSR checks of the SSE floating-point forms, MXCSR access and
/// FXSAVE as QEMU 7.2 makes them (decode-new.c.inc validate_vex, also before its LOCK test;
/// translate.c 0F AE), found missing by the CPU fuzzer once it toggled CR0 and CR4; the
/// MMX-operand conversions make none.
/// </summary>
[Trait("Category", "Unit")]
public class SseExceptionCheckTests
{
    private const ulong Handler = 0x180000, Buffer = 0x200000;

    private static readonly Dictionary<string, Action<Assembler>> Forms = new()
    {
        ["addps"] = a => a.addps(xmm0, xmm1),
        ["cvtsi2ss"] = a => a.cvtsi2ss(xmm0, eax),
        ["cvttsd2si"] = a => a.cvttsd2si(eax, xmm1),
        ["movss"] = a => a.movss(xmm0, xmm1),
        ["movmskpd"] = a => a.movmskpd(eax, xmm1),
        ["movddup"] = a => a.movddup(xmm0, xmm1),
        ["ucomisd"] = a => a.ucomisd(xmm0, xmm1),
        ["ldmxcsr"] = a => a.ldmxcsr(__dword_ptr[rbx]),
        ["stmxcsr"] = a => a.stmxcsr(__dword_ptr[rbx]),
        ["fxsave"] = a => a.fxsave(__[rbx]),
        ["cvtpi2ps"] = a => a.cvtpi2ps(xmm0, mm1),
        ["lock psrldq"] = a => a.db(0xF0, 0x66, 0x0F, 0x73, 0xD8, 0x20),
        ["lock movd store"] = a => a.db(0xF0, 0x66, 0x0F, 0x7E, 0x03), // lock movd [rbx], xmm0
    };

    [Theory]
    // validate_vex: #UD without OSFXSR, #NM with TS, #UD with EM.
    [InlineData("addps", false, 0UL, Vector.UD)]
    [InlineData("addps", true, CrBits.TS | CrBits.EM, Vector.NM)]
    [InlineData("cvtsi2ss", true, CrBits.TS, Vector.NM)]
    [InlineData("cvttsd2si", true, CrBits.EM, Vector.UD)]
    [InlineData("movss", true, CrBits.TS, Vector.NM)]
    [InlineData("movmskpd", false, 0UL, Vector.UD)]
    [InlineData("movddup", true, CrBits.EM, Vector.UD)]
    [InlineData("ucomisd", true, CrBits.TS, Vector.NM)]
    // 0F AE /2 /3: #UD with EM or without OSFXSR, before #NM with TS.
    [InlineData("ldmxcsr", true, CrBits.TS | CrBits.EM, Vector.UD)]
    [InlineData("stmxcsr", true, CrBits.TS, Vector.NM)]
    [InlineData("stmxcsr", false, 0UL, Vector.UD)]
    // 0F AE /0: #NM with EM or TS, no OSFXSR test.
    [InlineData("fxsave", true, CrBits.EM, Vector.NM)]
    [InlineData("fxsave", false, 0UL, -1)]
    // LOCK: validate_vex before disas_insn_new's LOCK test.
    [InlineData("lock psrldq", true, CrBits.TS, Vector.NM)]
    [InlineData("lock psrldq", true, 0UL, Vector.UD)]
    [InlineData("lock movd store", true, CrBits.TS, Vector.NM)]
    [InlineData("lock movd store", true, 0UL, -1)]
    // No exception class at all.
    [InlineData("cvtpi2ps", false, CrBits.TS | CrBits.EM, -1)]
    public void ChecksAsQemu(string form, bool osfxsr, ulong cr0Bits, int vector)
    {
        using var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.WriteU64(Buffer, 0x1F80);
        m.LoadLong64(a =>
        {
            a.mov(rbx, (long)Buffer);
            Forms[form](a);
            a.hlt();
        });
        if (osfxsr)
        {
            m.EnableSse();
        }

        m.Cpu.WriteCr0(m.Cpu._cr0 | cr0Bits);
        m.Run();
        Assert.Equal(vector, m.Cpu.LastException);
    }
}
