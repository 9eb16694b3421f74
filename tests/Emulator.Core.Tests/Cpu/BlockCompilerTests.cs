using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// The block compiler against the interpreter: the same program, run once with every block
/// interpreted and once with every block compiled from its second run (on the CPU thread, so the
/// test is deterministic), must leave the same registers, flags, memory, RIP and instruction count
/// — also when a fault, a code write or the instruction budget cuts a compiled block short.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BlockCompilerTests
{
    private const ulong Data = AluSandbox.DataAt;

    internal static (AluSandbox Interpreted, AluSandbox Compiled) Pair(int bitness = 64)
    {
        var interpreted = new AluSandbox(bitness);
        interpreted.Cpu.BlockCompilation = false;
        var compiled = new AluSandbox(bitness);
        compiled.Cpu.CompileThreshold = 1;
        compiled.Cpu.CompileSynchronously = true;
        return (interpreted, compiled);
    }

    internal static void AssertSameState(AluSandbox a, AluSandbox b, int dataBytes = 64)
    {
        for (int r = 0; r < 16; r++)
        {
            Assert.True(a.Reg(r) == b.Reg(r), $"register {r}: interpreted {a.Reg(r):X}, compiled {b.Reg(r):X}");
        }

        Assert.Equal(a.Flags, b.Flags);
        Assert.Equal(a.Cpu._rip, b.Cpu._rip);
        Assert.Equal(a.Cpu.InstructionCount, b.Cpu.InstructionCount);
        Assert.Equal(a.Fault, b.Fault);
        for (int i = 0; i < dataBytes; i += 8)
        {
            Assert.Equal(a.ReadData((ulong)i, 8), b.ReadData((ulong)i, 8));
        }
    }

    /// <summary>Runs <paramref name="program"/> (64-bit) on both CPUs for <paramref name="budget"/> instructions; both must stop alike and agree.</summary>
    private static StopReason RunBothWithBudget(Action<Assembler> program, long budget)
    {
        var (interpreted, compiled) = Pair();
        using var _1 = interpreted;
        using var _2 = compiled;
        var code = interpreted.Assemble(program);
        interpreted.Machine.Load(AluSandbox.CodeAt, code);
        compiled.Machine.Load(AluSandbox.CodeAt, code);
        var stop = interpreted.Machine.Run(budget);
        Assert.Equal(stop, compiled.Machine.Run(budget));
        AssertSameState(interpreted, compiled);
        return stop;
    }

    /// <summary>Every twin form in one loop: ALU register, immediate and memory forms of each width, loads, stores, LEA, INC/DEC, IMUL, PUSH/POP and every Jcc.</summary>
    internal static void MixedLoop(Assembler a)
    {
        var top = a.CreateLabel();
        var l1 = a.CreateLabel();
        var l2 = a.CreateLabel();
        var l3 = a.CreateLabel();
        var l4 = a.CreateLabel();
        var l5 = a.CreateLabel();
        var l6 = a.CreateLabel();
        var near = a.CreateLabel();
        var sub = a.CreateLabel();
        var afterJump = a.CreateLabel();
        a.mov(ecx, 40);
        a.mov(rsi, Data);
        a.mov(rax, 0x1234_5678_9ABC_DEF1UL);
        a.mov(__qword_ptr[rsi], rax);
        a.lea(rdx, __qword_ptr[sub]);
        a.mov(__qword_ptr[rsi + 96], rdx);
        a.Label(ref top);
        a.mov(rax, __qword_ptr[rsi]);
        a.add(eax, ecx);
        a.adc(rbx, rax);
        a.sub(bx, cx);
        a.sbb(dl, 7);
        a.and(r8d, 0x7F3);
        a.or(r9, rax);
        a.xor(r10d, r10d);
        a.xor(r10, rax);
        a.mov(__dword_ptr[rsi + 8], eax);
        a.movzx(edx, __byte_ptr[rsi + 3]);
        a.movzx(r11d, __word_ptr[rsi + 1]);
        a.add(__dword_ptr[rsi + 16], ecx);
        a.add(__qword_ptr[rsi + 24], 0x35);
        a.sub(r12, __qword_ptr[rsi + 8]);
        a.imul(r13, rax);
        a.lea(r14, __qword_ptr[rax + rcx * 4 + 0x10]);
        a.lea(r15, __qword_ptr[near]);
        a.inc(ah);
        a.dec(r11w);
        a.push(rax);
        a.pop(rdx);
        a.mov(ah, cl);
        a.cmp(rax, rbx);
        a.jle(l1);
        a.inc(r8);
        a.Label(ref l1);
        a.test(r9, r9);
        a.js(l2);
        a.dec(r9);
        a.Label(ref l2);
        a.cmp(ecx, 20);
        a.jb(l3);
        a.add(r12d, 3);
        a.Label(ref l3);
        a.cmp(edx, r11d);
        a.jg(l4);
        a.sub(r13, 5);
        a.Label(ref l4);
        a.test(al, 1);
        a.jp(l5);
        a.xor(r14b, 0x55);
        a.Label(ref l5);
        a.cmp(r12, r13);
        a.jae(l6);
        a.rol(r12, 3);
        a.Label(ref l6);
        a.xor(__qword_ptr[rsi], r14);
        a.shr(eax, 3);
        a.shl(r9, cl);
        a.shl(dx, 1);
        a.sete(bl);
        a.setb(r10b);
        a.cmovg(r11, rax);
        a.cmovae(ebx, edx);
        a.cdqe();
        a.mov(__dword_ptr[rsi + 32], 0x7777);
        a.mov(r12d, 0x1234);
        a.movsx(r13, __byte_ptr[rsi + 5]);
        a.movsxd(r14, edx);
        a.movsx(dx, al);
        a.inc(__qword_ptr[rsi + 40]);
        a.dec(__dword_ptr[rsi + 48]);
        a.imul(r8, __qword_ptr[rsi + 8], -3);
        a.shl(__qword_ptr[rsi + 56], cl);
        a.sar(r9d, 5);
        a.push(__qword_ptr[rsi + 8]);
        a.pop(r10);
        a.call(__qword_ptr[rsi + 96]);
        a.lea(rdx, __qword_ptr[afterJump]);
        a.jmp(rdx);
        a.Label(ref afterJump);
        a.call(sub);
        a.dec(ecx);
        a.jnz(top);
        a.jmp(near);
        a.Label(ref sub);
        a.add(r15, rcx);
        a.ret();
        a.Label(ref near);
        a.nop();
    }

    [Fact]
    public void A_loop_of_every_twin_form_ends_in_the_same_state_compiled_and_interpreted()
    {
        var (interpreted, compiled) = Pair();
        using var _1 = interpreted;
        using var _2 = compiled;
        Assert.True(interpreted.Run(interpreted.Assemble(MixedLoop), maxInstructions: 100_000));
        Assert.True(compiled.Run(compiled.Assemble(MixedLoop), maxInstructions: 100_000));
        Assert.True(compiled.Cpu.BlocksCompiled > 5, $"only {compiled.Cpu.BlocksCompiled} blocks were compiled");
        AssertSameState(interpreted, compiled);
    }

    [Fact]
    public void A_page_fault_inside_a_compiled_block_is_delivered_at_the_same_instruction()
    {
        // The pointer walks up a page at a time and leaves the 4 GiB identity map on the 9th
        // iteration, in the middle of a block that has been compiled by then.
        static void Program(Assembler a)
        {
            var top = a.CreateLabel();
            a.mov(rsi, 0xFFFF_8000UL);
            a.mov(ecx, 100);
            a.Label(ref top);
            a.add(rbx, rcx);
            a.mov(rax, __qword_ptr[rsi]);
            a.add(rsi, 0x1000);
            a.inc(rdx);
            a.dec(ecx);
            a.jnz(top);
        }

        var (interpreted, compiled) = Pair();
        using var _1 = interpreted;
        using var _2 = compiled;
        Assert.False(interpreted.Run(interpreted.Assemble(Program), maxInstructions: 100_000));
        Assert.False(compiled.Run(compiled.Assemble(Program), maxInstructions: 100_000));
        Assert.Equal(14, compiled.Fault);
        Assert.True(compiled.Cpu.BlocksCompiled > 0);
        AssertSameState(interpreted, compiled);
        Assert.Equal(interpreted.Cpu._cr2, compiled.Cpu._cr2);

        // The faulting RIP the CPU pushed: the load, in both.
        ulong rsp = compiled.Reg(Gpr.Rsp);
        Assert.Equal(interpreted.Machine.ReadU64(rsp + 8), compiled.Machine.ReadU64(rsp + 8));
    }

    [Fact]
    public void The_instruction_budget_stops_a_compiled_run_where_it_stops_the_interpreter()
    {
        foreach (long budget in new long[] { 150, 301, 777 })
        {
            Assert.Equal(StopReason.InstructionLimit, RunBothWithBudget(MixedLoop, budget));
        }
    }

    [Fact]
    public void A_store_into_the_running_code_page_ends_the_compiled_block_as_it_ends_an_interpreted_one()
    {
        // Each iteration rewrites the immediate of the ADD below it (self-modifying code): the
        // block is dropped and rebuilt, and the new immediate must take effect in both.
        static void Program(Assembler a)
        {
            var top = a.CreateLabel();
            var patch = a.CreateLabel();
            a.mov(ecx, 30);
            a.Label(ref top);
            a.lea(rdi, __qword_ptr[patch]);
            a.mov(__byte_ptr[rdi + 3], cl);
            a.inc(r8);
            a.Label(ref patch);
            a.add(rbx, 0x11);
            a.dec(ecx);
            a.jnz(top);
        }

        var (interpreted, compiled) = Pair();
        using var _1 = interpreted;
        using var _2 = compiled;
        Assert.True(interpreted.Run(interpreted.Assemble(Program), maxInstructions: 100_000));
        Assert.True(compiled.Run(compiled.Assemble(Program), maxInstructions: 100_000));
        AssertSameState(interpreted, compiled);
    }

    [Fact]
    public void A_block_that_loops_on_itself_stops_at_the_budget_and_at_a_code_write_like_the_interpreter()
    {
        // One block jumping to its own start: the compiled form runs it in place, and must still
        // stop exactly where the run loop would (the budget), and leave the loop when a store
        // rewrites its own code.
        static void Program(Assembler a)
        {
            var top = a.CreateLabel();
            a.mov(ecx, 5000);
            a.lea(rdi, __qword_ptr[top]);
            a.Label(ref top);
            a.add(rax, rcx);
            a.xor(rbx, rax);
            a.cmp(ecx, 17);
            a.cmove(rdx, rdi);
            a.dec(ecx);
            a.jnz(top);
            a.mov(__byte_ptr[rdi + 2], 0xD8); // ADD RAX,RCX becomes ADD RAX,RBX
            a.mov(ecx, 300);
            a.jmp(top);
        }

        foreach (long budget in new long[] { 997, 6_000, 29_999, 40_000 })
        {
            RunBothWithBudget(Program, budget);
        }
    }

    [Fact]
    public void A_32_bit_loop_with_memory_operands_ends_in_the_same_state_compiled_and_interpreted()
    {
        // Protected mode: segment bases are added and addresses wrap at 4 GiB (the 64-bit
        // shortcut of the compiled address computation must not apply).
        var (interpreted, compiled) = Pair(32);
        using var _1 = interpreted;
        using var _2 = compiled;
        Assert.True(interpreted.Run(interpreted.Assemble(Protected32Loop), DsBase, maxInstructions: 100_000));
        Assert.True(compiled.Run(compiled.Assemble(Protected32Loop), DsBase, maxInstructions: 100_000));
        Assert.True(compiled.Cpu.BlocksCompiled > 0);
        AssertSameState(interpreted, compiled, dataBytes: 192);
        for (int i = 0; i < 192; i += 8)
        {
            Assert.Equal(interpreted.ReadData(0x10000 + (ulong)i, 8), compiled.ReadData(0x10000 + (ulong)i, 8));
        }
    }

    /// <summary>A protected-mode loop with memory operands, 32-bit stack forms, LEAVE and a DS base.</summary>
    internal static void Protected32Loop(Assembler a)
    {
        var top = a.CreateLabel();
        var skip = a.CreateLabel();
        var sub = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(ecx, 50);
        a.mov(esi, (uint)Data);
        a.Label(ref top);
        a.mov(eax, __dword_ptr[esi + ecx * 4]);
        a.add(eax, ecx);
        a.xor(__dword_ptr[esi + 8], eax);
        a.movzx(edx, __byte_ptr[esi + ecx]);
        a.sub(ebx, __dword_ptr[esi + 8]);
        a.mov(__word_ptr[esi + ecx * 2 + 64], dx);
        a.lea(edi, __dword_ptr[eax + edx * 8 - 3]);
        a.push(edi);
        a.pop(ebp);
        a.cmp(edi, ebx);
        a.jl(skip);
        a.inc(ebx);
        a.Label(ref skip);
        a.push(0x1234);
        a.push(-5);
        a.pop(edx);
        a.pop(eax);
        a.sar(edx, 3);
        a.sar(eax, cl);
        a.xor(eax, __dword_ptr[esi + 12]);
        a.xor(__dword_ptr[esi + 16], edx);
        a.inc(__dword_ptr[esi + 20]);
        a.dec(__word_ptr[esi + 24]);
        a.imul(eax, __dword_ptr[esi + 4], 5);
        a.imul(ebx, ecx, 7);
        a.shl(__dword_ptr[esi + 28], 2);
        a.sar(__dword_ptr[esi + 32], cl);
        a.shr(__byte_ptr[esi + 36], 1);
        a.push(__dword_ptr[esi + 4]);
        a.pop(edi);
        a.call(sub);
        a.dec(ecx);
        a.jnz(top);
        a.jmp(done);
        a.Label(ref sub);
        a.push(ebp);
        a.mov(ebp, esp);
        a.sub(esp, 16);
        a.mov(__dword_ptr[ebp - 4], ecx);
        a.add(ebx, __dword_ptr[ebp - 4]);
        a.leave();
        a.ret();
        a.Label(ref done);
        a.nop();
    }

    /// <summary>DS based at 64 KiB (set directly, as a descriptor load would): the data lands there.</summary>
    internal static void DsBase(global::Emulator.Core.Cpu.Cpu c)
    {
        c._seg[Seg.Ds].Base = 0x10000;
        c._segBase[Seg.Ds] = 0x10000;
    }
}
