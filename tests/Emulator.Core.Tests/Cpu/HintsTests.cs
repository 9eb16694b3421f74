using System.Globalization;
using System.Runtime.CompilerServices;
using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// Prefetches, the reserved-NOP hint space, multi-byte NOPs, PAUSE, CLFLUSH and the fences, run as
/// 64-bit guest programs and held against what QEMU 7.2 did with the same bytes
/// (<c>Data/qemu72-hints.txt</c>): which forms are NOPs and which raise #UD, including the LOCK
/// and mandatory-prefix forms Iced decodes differently, and none reported as unimplemented.
/// </summary>
[Trait("Category", "Unit")]
public class HintsTests
{
    private const ulong Handler = 0x180000;
    private const ulong Buffer = 0x200000;
    private const ulong R8In = 0x3333333344444444;

    private static string DataFile([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Data", "qemu72-hints.txt");

    public static TheoryData<string> Vectors()
    {
        var data = new TheoryData<string>();
        foreach (string line in File.ReadAllLines(DataFile()))
        {
            string text = line.Split('#')[0].Trim();
            if (text.Length > 0)
            {
                data.Add(text);
            }
        }

        return data;
    }

    /// <summary>
    /// One vector: the bytes run three times in a loop (so the block compiler, which CI's
    /// EMU_TEST_COMPILE_ALL pass turns on from a block's second run, executes them too), from
    /// rax = a readable buffer and r8 = <see cref="R8In"/> unless the line gives other inputs.
    /// </summary>
    [Theory]
    [MemberData(nameof(Vectors))]
    public void RunsAsOnQemu(string vector)
    {
        var (bytes, inputs, outcome, outputs) = Parse(vector);
        using var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(64, Handler, a => a.hlt()));
        SystemTestSupport.InstallLongIdt(m, Handler);
        m.LoadLong64(a =>
        {
            var loop = a.CreateLabel();
            a.mov(rax, unchecked((long)inputs.GetValueOrDefault("rax", Buffer)));
            a.mov(r8, unchecked((long)inputs.GetValueOrDefault("r8", R8In)));
            a.mov(ecx, 3);
            a.Label(ref loop);
            a.db(bytes);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Empty(m.Cpu.Unimplemented);
        Assert.Equal(outcome == "UD" ? Vector.UD : -1, m.Cpu.LastException);
        if (outcome == "ok")
        {
            Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx));
            Assert.Equal(outputs.GetValueOrDefault("rax", inputs.GetValueOrDefault("rax", Buffer)), m.Cpu.GetGpr(Gpr.Rax));
            Assert.Equal(outputs.GetValueOrDefault("r8", inputs.GetValueOrDefault("r8", R8In)), m.Cpu.GetGpr(Gpr.R8));
        }
    }

    public static TheoryData<string> VectorsWithoutRex()
    {
        var data = new TheoryData<string>();
        foreach (string vector in Vectors())
        {
            var (bytes, inputs, _, _) = Parse(vector);
            if (inputs.Count == 0 && !bytes.TakeWhile(b => b != 0x0F && b != 0x90).Any(b => b is >= 0x40 and <= 0x4F))
            {
                data.Add(vector);
            }
        }

        return data;
    }

    /// <summary>
    /// The same vectors in 32-bit protected mode (those without a REX prefix, which would be
    /// INC/DEC there): QEMU's cases for these opcodes never look at the mode, and ours decode
    /// with another Iced decoder, so the outcome must be the same.
    /// </summary>
    [Theory]
    [MemberData(nameof(VectorsWithoutRex))]
    public void RunsAsOnQemu_InProtectedMode(string vector)
    {
        var (bytes, _, outcome, _) = Parse(vector);
        using var m = new TestMachine();
        m.Load(Handler, TestMachine.Assemble(32, Handler, a => a.hlt()));
        FlowTestSupport.Gate32(m, Vector.UD, (uint)Handler);
        m.LoadProtected32(a =>
        {
            var loop = a.CreateLabel();
            a.mov(eax, (uint)Buffer);
            a.mov(ecx, 3);
            a.Label(ref loop);
            a.db(bytes);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Empty(m.Cpu.Unimplemented);
        Assert.Equal(outcome == "UD" ? Vector.UD : -1, m.Cpu.LastException);
        if (outcome == "ok")
        {
            Assert.Equal(0UL, m.Cpu.GetGpr(Gpr.Rcx));
        }
    }

    /// <summary>CLFLUSH follows the model's CPUID.1:EDX.CLFSH: a NOP on qemu64, #UD on qemu32 (QEMU 7.2 checks the bit).</summary>
    [Theory]
    [InlineData("qemu64", -1)]
    [InlineData("qemu32", Vector.UD)]
    public void Clflush_FollowsTheModel(string model, int vector)
    {
        using var m = new TestMachine(model: CpuModel.ByName(model));
        m.Load(Handler, TestMachine.Assemble(32, Handler, a => a.hlt()));
        FlowTestSupport.Gate32(m, Vector.UD, (uint)Handler);
        m.LoadProtected32(a =>
        {
            a.mov(eax, (uint)Buffer);
            a.clflush(__byte_ptr[eax]);
            a.hlt();
        });

        Assert.Equal(StopReason.Halted, m.Run());
        Assert.Equal(vector, m.Cpu.LastException);
    }

    /// <summary>The flags a hint leaves are the flags it found (all of them, both ways).</summary>
    [Fact]
    public void Hints_LeaveFlagsAlone()
    {
        using var m = new TestMachine();
        m.LoadLong64(a =>
        {
            a.push(0x8D5);
            a.popfq();
            a.prefetcht0(__byte_ptr[rsp]);
            a.prefetchw(__byte_ptr[rsp]);
            a.nop(__dword_ptr[rax + rax + 0]);
            a.pause();
            a.lfence();
            a.clflush(__byte_ptr[rsp]);
            a.pushfq();
            a.pop(rbx);
            a.push(0);
            a.popfq();
            a.prefetchnta(__byte_ptr[rsp]);
            a.mfence();
            a.sfence();
            a.pushfq();
            a.pop(rdx);
            a.hlt();
        });
        m.Run();
        Assert.Equal(0x8D7UL, m.Cpu.GetGpr(Gpr.Rbx));
        Assert.Equal(0x2UL, m.Cpu.GetGpr(Gpr.Rdx));
    }

    public static TheoryData<Mnemonic> Mnemonics => new()
    {
        Mnemonic.Nop, Mnemonic.Pause, Mnemonic.Reservednop, Mnemonic.Prefetchnta, Mnemonic.Prefetcht0,
        Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchit0, Mnemonic.Prefetchit1, Mnemonic.Prefetch,
        Mnemonic.Prefetchw, Mnemonic.Prefetchwt1, Mnemonic.Cldemote, Mnemonic.Endbr32, Mnemonic.Endbr64,
        Mnemonic.Rdsspd, Mnemonic.Rdsspq, Mnemonic.Lfence, Mnemonic.Mfence, Mnemonic.Sfence, Mnemonic.Clflush,
        Mnemonic.Clflushopt, Mnemonic.Clwb, Mnemonic.Monitor, Mnemonic.Mwait, Mnemonic.Monitorx, Mnemonic.Mwaitx,
    };

    /// <summary>Every encoding of the hint mnemonics has a handler (a NOP or QEMU's #UD), so none reaches the unimplemented report.</summary>
    [Theory]
    [MemberData(nameof(Mnemonics))]
    public void EveryEncodingIsRegistered(Mnemonic mnemonic)
    {
        var codes = HandlerRegistry.CodesOf(mnemonic).ToList();
        Assert.NotEmpty(codes);
        Assert.All(codes, code => Assert.True(HandlerTable.IsImplemented(code), code.ToString()));
    }

    private static (byte[] Bytes, Dictionary<string, ulong> Inputs, string Outcome, Dictionary<string, ulong> Outputs) Parse(string vector)
    {
        string[] sides = vector.Split("->");
        string[] left = sides[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] right = sides[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (Convert.FromHexString(left[0]), Registers(left.Skip(1)), right[0], Registers(right.Skip(1)));
    }

    private static Dictionary<string, ulong> Registers(IEnumerable<string> fields) =>
        fields.Select(f => f.Split('='))
            .ToDictionary(kv => kv[0], kv => ulong.Parse(kv[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
}
