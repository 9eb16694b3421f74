using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>Helpers for system-level tests: a 64-bit IDT whose 32 exception vectors all go to one handler, and a 64-bit program run with SSE enabled.</summary>
internal static class SystemTestSupport
{
    public const ulong IdtBase = 0x60000;

    public static void InstallLongIdt(TestMachine m, ulong handler)
    {
        for (ulong v = 0; v < 32; v++)
        {
            ulong lo = (handler & 0xFFFF) | ((ulong)TestMachine.Code64 << 16) | (0x8EUL << 40) | ((handler >> 16) & 0xFFFF) << 48;
            m.WriteU64(IdtBase + v * 16, lo);
            m.WriteU64(IdtBase + v * 16 + 8, handler >> 32);
        }

        m.Cpu._idtr = new TableRegister { Base = IdtBase, Limit = 32 * 16 - 1 };
    }

    /// <summary>Interpreted and block-compiled, for the tests that run their program each way.</summary>
    public static TheoryData<bool> Engines => new() { false, true };

    /// <summary>
    /// <paramref name="program"/> in 64-bit mode with SSE enabled (CR4.OSFXSR, OSXMMEXCPT) and every
    /// exception going to a HLT, after <paramref name="setUp"/> loaded its data; block-compiled
    /// (threshold 1, so a loop's later passes run the compiled block) when <paramref name="compiled"/>.
    /// The caller disposes the machine.
    /// </summary>
    public static TestMachine RunLong64Sse(bool compiled, Action<TestMachine> setUp, Action<Assembler> program)
    {
        var m = new TestMachine();
        if (compiled)
        {
            m.Cpu.CompileThreshold = 1;
            m.Cpu.CompileSynchronously = true;
        }

        setUp(m);
        const ulong handler = 0x180000;
        m.Load(handler, TestMachine.Assemble(64, handler, a => a.hlt()));
        m.LoadLong64(program);
        InstallLongIdt(m, handler);
        m.EnableSse();
        m.Run();
        if (compiled && m.Cpu.LastException < 0)
        {
            Assert.True(m.Cpu.BlocksCompiled > 0);
        }

        return m;
    }

    /// <summary>
    /// <paramref name="pass"/> three times over (so a compiled run executes its blocks compiled
    /// from the second pass on) with RSI = <paramref name="data"/> and MXCSR loaded from
    /// <c>[rsi+0x100]</c> at the start of each pass; <paramref name="input"/> is at
    /// <paramref name="data"/>, <paramref name="memory"/> (32 zero bytes when null) at
    /// <paramref name="data"/> + <paramref name="memoryOffset"/>.
    /// </summary>
    public static TestMachine RunSsePasses(bool compiled, ulong data, byte[] input, ulong memoryOffset, byte[]? memory, Action<Assembler> pass) =>
        RunLong64Sse(compiled, m =>
        {
            m.Load(data, input);
            m.Load(data + memoryOffset, memory ?? new byte[32]);
        }, a =>
        {
            a.mov(rsi, (long)data);
            a.mov(ecx, 3);
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.ldmxcsr(__dword_ptr[rsi + 0x100]);
            pass(a);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });
}
