using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// LOCK where the SDM says #UD: emu follows QEMU 7.2 (Cpu.DecodeLock.cs, docs/cpu.md "LOCK"),
/// as the CPU fuzzer's LockPrefixTests checked against QEMU on every generated form. Each
/// vector runs in 64-bit mode from rax = rdx = a writable buffer, three times in a loop (so the
/// block compiler runs it too under CI's EMU_TEST_COMPILE_ALL pass).
/// </summary>
[Trait("Category", "Unit")]
public class LockPrefixTests
{
    private const ulong Handler = 0x180000;
    private const ulong Buffer = 0x200000;

    [Theory]
    [InlineData("f086e1", false)]          // lock xchg cl, ah: runs
    [InlineData("f0660fc1dd", false)]      // lock xadd bp, bx
    [InlineData("f09f", false)]            // lock lahf
    [InlineData("f066d3e7", false)]        // lock shl di, cl
    [InlineData("f089c1", false)]          // lock mov ecx, eax
    [InlineData("f08910", false)]          // lock mov [rax], edx
    [InlineData("f031c0", false)]          // lock xor eax, eax: the zeroing idiom
    [InlineData("f0660f7e00", false)]      // lock movd [rax], xmm0: runs, stores nothing
    [InlineData("f00fae10", false)]        // lock ldmxcsr [rax]
    [InlineData("f00f1800", false)]        // lock prefetchnta [rax]
    [InlineData("f00fa300", false)]        // lock bt [rax], eax
    [InlineData("f00110", false)]          // lock add [rax], edx: the SDM's own case
    [InlineData("f031d8", true)]           // lock xor eax, ebx: gen_op with a register destination
    [InlineData("f001d8", true)]           // lock add eax, ebx
    [InlineData("f03910", true)]           // lock cmp [rax], edx: CMP always (7.2.x stable)
    [InlineData("f0ffc0", true)]           // lock inc eax
    [InlineData("f0f7d8", true)]           // lock neg eax
    [InlineData("f00fb1d8", true)]         // lock cmpxchg eax, ebx
    [InlineData("f090", true)]             // lock nop
    [InlineData("f04190", true)]           // lock xchg r8d, eax: 90 with REX.B
    [InlineData("f0f390", true)]           // lock pause
    [InlineData("f00f2800", true)]         // lock movaps xmm0, [rax]
    [InlineData("f00f7f00", true)]         // lock movq [rax], mm0: 0F 7F's operand 0 is W, not integer memory
    [InlineData("f0660fd600", true)]       // lock movq [rax], xmm0 (66 0F D6): W as well
    [InlineData("f00faee8", true)]         // lock lfence
    [InlineData("f00fae38", true)]         // lock clflush [rax]
    [InlineData("f0ab", false)]            // lock stosd
    [InlineData("f00f2ac1", true)]         // lock cvtpi2ps xmm0, mm1
    [InlineData("f0660f73d820", true)]     // lock psrldq xmm0, 20h
    public void RaisesInvalidOpcodeExactlyWhereQemuDoes(string hex, bool invalid)
    {
        byte[] bytes = Convert.FromHexString(hex);
        using var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.WriteU64(Buffer, 0x1F80); // a valid MXCSR image for LDMXCSR
        m.LoadLong64(a =>
        {
            var loop = a.CreateLabel();
            a.mov(esi, 3);
            a.Label(ref loop);
            a.mov(rax, (long)Buffer);
            a.mov(rdx, (long)Buffer);
            a.mov(rdi, (long)Buffer + 0x100);
            a.mov(ecx, 1);
            a.db(bytes);
            a.dec(esi);
            a.jnz(loop);
            a.hlt();
        });
        m.EnableSse(); // CR4.OSFXSR as the fuzzer's image and OVMF set it: the SSE forms get past their checks
        Assert.Equal(StopReason.Halted, m.Run(10_000));
        Assert.Empty(m.Cpu.Unimplemented);
        Assert.Equal(invalid ? Vector.UD : -1, m.Cpu.LastException);
        if (hex == "f0660f7e00")
        {
            Assert.Equal(0x1F80UL, m.ReadU64(Buffer));
        }
    }
}
