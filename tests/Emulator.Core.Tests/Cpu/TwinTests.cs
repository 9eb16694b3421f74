using System.Reflection;
using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Jit;
using Emulator.Core.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// The twins (<see cref="JitTwinAttribute"/>) are the bodies of the hottest instructions: every
/// one must name a handler of its shape, the handler must call it (one body per instruction),
/// every one must run in the compiled-against-interpreted programs, and each one's flag claim,
/// which flag liveness trusts, must agree with Iced's for the instructions it stands for.
/// </summary>
[Trait("Category", "Unit")]
public sealed class TwinTests
{
    private const BindingFlags AllStatic = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
    private const ulong Data = AluSandbox.DataAt;

    private static readonly (MethodInfo Method, JitTwinAttribute Attribute)[] Twins = HandlerMethods.AllTwins().ToArray();

    private static string Key(MethodInfo twin, JitTwinAttribute attribute) =>
        $"{(twin.IsGenericMethod ? twin.GetGenericMethodDefinition() : twin).Name} for {attribute.Handler}";

    private static MethodInfo HandlerOf(JitTwinAttribute attribute)
    {
        var handlers = typeof(Handlers).GetMethods(AllStatic).Where(m => m.Name == attribute.Handler && IsHandlerShape(m)).ToArray();
        Assert.True(handlers.Length == 1, $"[JitTwin(\"{attribute.Handler}\")]: {handlers.Length} handlers of that name");
        return handlers[0];
    }

    private static bool IsHandlerShape(MethodInfo m)
    {
        var p = m.GetParameters();
        return m.ReturnType == typeof(void) && p.Length == 2 && p[0].ParameterType == typeof(global::Emulator.Core.Cpu.Cpu) &&
            p[1].ParameterType == typeof(DecodedOp).MakeByRefType();
    }

    [Fact]
    public void There_are_twins_and_each_names_a_handler_with_matching_operands()
    {
        Assert.True(Twins.Length > 50, $"only {Twins.Length} twins found");
        foreach (var (twin, attribute) in Twins)
        {
            string key = Key(twin, attribute);
            var handler = HandlerOf(attribute);
            Assert.True(twin.ReturnType == typeof(void), key);
            Assert.True(twin.GetGenericArguments().Length == handler.GetGenericArguments().Length, $"{key}: generic arity differs from the handler's");
            if (twin.IsGenericMethodDefinition)
            {
                // The compiler instantiates the twin with the handler's type arguments.
                twin.MakeGenericMethod(handler.GetGenericArguments());
            }

            foreach (var p in twin.GetParameters())
            {
                if (BlockCompiler.ContextParameters.Contains(p.Name))
                {
                    continue;
                }

                var field = typeof(DecodedOp).GetField(p.Name!);
                Assert.True(field != null, $"{key}: parameter {p.Name} is neither a DecodedOp field nor one of {string.Join(", ", BlockCompiler.ContextParameters)}");
                Assert.True(field!.FieldType == p.ParameterType, $"{key}: parameter {p.Name} is {p.ParameterType.Name}, the field {field.FieldType.Name}");
            }

            Assert.True(twin.GetParameters().Any(p => p.Name == "cc") == attribute.Condition >= 0, $"{key}: a cc parameter goes with Condition");
        }
    }

    [Fact]
    public void Every_handler_with_a_twin_calls_it_so_the_instruction_has_one_body()
    {
        foreach (var (twin, attribute) in Twins)
        {
            var handler = HandlerOf(attribute);
            Assert.True(Callees(handler).Contains(twin), $"{attribute.Handler} does not call its twin {twin.Name}: the instruction has two bodies");
        }
    }

    [Fact]
    public void Every_twin_states_what_it_writes_of_the_flags()
    {
        foreach (var (twin, attribute) in Twins)
        {
            Assert.True(attribute.FlagsWritten != TwinFlags.Unknown, $"{Key(twin, attribute)}: FlagsWritten not stated");
            if (twin.GetParameters().Any(p => p.Name == "recordFlags"))
            {
                // Skipping the record is only sound for a twin that replaces them all when it records.
                Assert.True(attribute.FlagsWritten is TwinFlags.All or TwinFlags.AllForNonZeroCount, $"{Key(twin, attribute)} may skip flags it does not replace");
            }
        }
    }

    [Fact]
    public void Every_twin_runs_compiled_against_its_handler_interpreted_and_its_flag_claim_agrees_with_iced()
    {
        var emitted = new List<(MethodInfo Twin, JitTwinAttribute Attribute, Instruction Insn, bool RecordsFlags)>();
        BlockCompiler.EmittedTwins = emitted;
        try
        {
            RunPair(64, BlockCompilerTests.MixedLoop);
            RunPair(32, BlockCompilerTests.Protected32Loop, BlockCompilerTests.DsBase);
            RunPair(64, RestOfTheForms);
        }
        finally
        {
            BlockCompiler.EmittedTwins = null;
        }

        var all = Twins.Select(t => Key(t.Method, t.Attribute)).ToHashSet();
        var ran = emitted.Select(e => Key(e.Twin, e.Attribute)).ToHashSet();
        Assert.True(all.SetEquals(ran), $"twins never compiled in the differential programs: {string.Join(", ", all.Except(ran).Order())}");

        foreach (var (twin, attribute, insn, _) in emitted)
        {
            var modified = insn.RflagsModified & FlagLiveness.Status;
            string what = $"{Key(twin, attribute)} on {insn}: Iced says {modified}";
            switch (attribute.FlagsWritten)
            {
                case TwinFlags.None:
                    Assert.True(modified == RflagsBits.None, what);
                    break;
                case TwinFlags.All:
                    Assert.True(modified == FlagLiveness.Status, what);
                    break;
                case TwinFlags.AllForNonZeroCount:
                    Assert.True(modified is FlagLiveness.Status or RflagsBits.None, what);
                    break;
                case TwinFlags.AllButCarry:
                    Assert.True(modified == (FlagLiveness.Status & ~RflagsBits.CF), what);
                    break;
                default:
                    Assert.Fail($"{Key(twin, attribute)}: FlagsWritten not stated");
                    break;
            }
        }
    }

    [Fact]
    public void Flags_a_later_instruction_replaces_are_not_recorded_and_flags_an_instruction_keeps_are()
    {
        // ADD's flags die at the CMP when only flag-neutral twins come between (MOV, LEA, MOVZX:
        // their FlagsWritten = None); INC keeps CF and ADC reads it, so there ADD must record.
        var emitted = new List<(MethodInfo Twin, JitTwinAttribute Attribute, Instruction Insn, bool RecordsFlags)>();
        BlockCompiler.EmittedTwins = emitted;
        try
        {
            RunPair(64, a => Loop(a, () =>
            {
                a.add(rax, rbx);
                a.mov(rdx, rax);
                a.lea(rdi, __qword_ptr[rdx + 8]);
                a.movzx(r8d, dl);
                a.cmp(rax, 5);
            }));
            Assert.Contains(emitted, e => e.Insn.Mnemonic == Mnemonic.Add && !e.RecordsFlags);
            Assert.DoesNotContain(emitted, e => e.Insn.Mnemonic == Mnemonic.Add && e.RecordsFlags);

            emitted.Clear();
            RunPair(64, a => Loop(a, () =>
            {
                a.add(rax, rbx);
                a.inc(rdx);
                a.cmp(rax, 5);
                a.sub(r9, rax);
                a.adc(r10, rdx);
                a.cmp(r9, 5);
            }));
            Assert.DoesNotContain(emitted, e => e.Insn.Mnemonic is Mnemonic.Add or Mnemonic.Sub && !e.RecordsFlags);
        }
        finally
        {
            BlockCompiler.EmittedTwins = null;
        }
    }

    /// <summary>A 20-iteration loop around <paramref name="body"/> (ECX counts; the body must keep it).</summary>
    private static void Loop(Assembler a, Action body)
    {
        var top = a.CreateLabel();
        a.mov(ecx, 20);
        a.mov(ebx, 3);
        a.Label(ref top);
        body();
        a.dec(ecx);
        a.jnz(top);
    }

    /// <summary>What <see cref="BlockCompilerTests.MixedLoop"/> leaves out: the other Jcc, IMUL/SETcc/CMOVcc with memory operands, a RIP-relative load.</summary>
    private static void RestOfTheForms(Assembler a)
    {
        var top = a.CreateLabel();
        a.mov(ecx, 30);
        a.mov(rsi, Data);
        a.mov(__dword_ptr[rsi], 0x0C00_0003);
        a.Label(ref top);
        a.mov(eax, ecx);
        a.imul(eax, __dword_ptr[rsi]);
        a.add(eax, 0x7FFF_FFF0);
        var jumps = new Action<Label>[] { l => a.jo(l), l => a.jno(l), l => a.je(l), l => a.jbe(l), l => a.ja(l), l => a.jns(l), l => a.jnp(l), l => a.jge(l) };
        for (int k = 0; k < jumps.Length; k++)
        {
            var skip = a.CreateLabel();
            jumps[k](skip);
            a.add(r8, rcx);
            a.Label(ref skip);
            a.cmp(ecx, 8 + 2 * k);
        }

        a.sete(__byte_ptr[rsi + 8]);
        a.cmovl(edx, __dword_ptr[rsi + 8]);
        a.mov(rbx, __qword_ptr[top]);
        a.add(__qword_ptr[rsi + 16], rbx);
        a.dec(ecx);
        a.jnz(top);
    }

    private static void RunPair(int bitness, Action<Assembler> program, Action<global::Emulator.Core.Cpu.Cpu>? setup = null)
    {
        var (interpreted, compiled) = BlockCompilerTests.Pair(bitness);
        using var _1 = interpreted;
        using var _2 = compiled;
        Assert.True(interpreted.Run(interpreted.Assemble(program), setup, maxInstructions: 100_000));
        Assert.True(compiled.Run(compiled.Assemble(program), setup, maxInstructions: 100_000));
        Assert.True(compiled.Cpu.BlocksCompiled > 0);
        BlockCompilerTests.AssertSameState(interpreted, compiled);
    }

    /// <summary>The methods <paramref name="method"/>'s IL calls (generic instantiations as their definitions).</summary>
    private static List<MethodInfo> Callees(MethodInfo method)
    {
        var il = method.GetMethodBody()!.GetILAsByteArray()!;
        var callees = new List<MethodInfo>();
        for (int i = 0; i + 4 < il.Length; i++)
        {
            // call (0x28) and a method token; a stray 0x28 inside another operand resolves to nothing or to something else.
            if (il[i] != 0x28)
            {
                continue;
            }

            try
            {
                if (method.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1), null, method.IsGenericMethod ? method.GetGenericArguments() : null) is MethodInfo callee)
                {
                    callees.Add(callee.IsGenericMethod ? callee.GetGenericMethodDefinition() : callee);
                }
            }
            catch (ArgumentException)
            {
            }
        }

        return callees;
    }
}
