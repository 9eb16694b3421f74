using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// The one dispatch table, indexed by Iced <see cref="Code"/> × operand size. Entries no family
/// filled point at <see cref="Handlers.Unimplemented"/>, which raises #UD in the guest and records
/// the code for the run report — an unknown instruction is never a host crash.
/// </summary>
internal static unsafe class HandlerTable
{
    private static readonly bool[] Filled = new bool[CodeCount.Value];
    private static readonly delegate*<Cpu, ref DecodedOp, void>[] RegisterForms = new delegate*<Cpu, ref DecodedOp, void>[CodeCount.Value * 4];
    private static readonly delegate*<Cpu, ref DecodedOp, void>[] Table = Build();

    public static delegate*<Cpu, ref DecodedOp, void> Lookup(Code code, int opSize) =>
        Table[(int)code * 4 + HandlerRegistry.SizeIndex(opSize)];

    /// <summary>The register-only handler for <paramref name="code"/> when no operand is in memory, or null.</summary>
    public static delegate*<Cpu, ref DecodedOp, void> LookupRegisterForm(Code code, int opSize) =>
        RegisterForms[(int)code * 4 + HandlerRegistry.SizeIndex(opSize)];

    /// <summary>
    /// Test hook: replaces the handlers of <paramref name="code"/> (every operand size, the
    /// register-only forms too) for blocks decoded from now on, returning what restores them.
    /// The CPU fuzzer's proof that it catches a broken handler uses it
    /// (tests/Emulator.CpuFuzz.Tests); compiled blocks call their twins and are not affected.
    /// </summary>
    internal static IDisposable ReplaceForTest(Code code, delegate*<Cpu, ref DecodedOp, void> handler)
    {
        var saved = new (int Index, nint Table, nint Register)[4];
        for (int size = 0; size < 4; size++)
        {
            int index = (int)code * 4 + size;
            saved[size] = (index, (nint)Table[index], (nint)RegisterForms[index]);
            Table[index] = handler;
            RegisterForms[index] = RegisterForms[index] == null ? null : handler;
        }

        return new Restore(saved);
    }

    private sealed class Restore((int Index, nint Table, nint Register)[] saved) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (index, table, register) in saved)
            {
                Table[index] = (delegate*<Cpu, ref DecodedOp, void>)table;
                RegisterForms[index] = (delegate*<Cpu, ref DecodedOp, void>)register;
            }
        }
    }

    /// <summary>True when some family implements <paramref name="code"/> (for coverage tests and reports).</summary>
    public static bool IsImplemented(Code code) => Filled[(int)code];

    /// <summary>True when <paramref name="code"/> is registered to raise #UD on purpose (<see cref="Handlers.Invalid"/>: a form QEMU 7.2 rejects on qemu64).</summary>
    public static bool RaisesUdByDesign(Code code) => Filled[(int)code] && (nint)Table[(int)code * 4 + 2] == (nint)(delegate*<Cpu, ref DecodedOp, void>)&Handlers.Invalid;

    private static delegate*<Cpu, ref DecodedOp, void>[] Build()
    {
        var table = new delegate*<Cpu, ref DecodedOp, void>[CodeCount.Value * 4];
        for (int i = 0; i < table.Length; i++)
        {
            table[i] = &Handlers.Unimplemented;
        }

        var r = new HandlerRegistry(table, RegisterForms);
        Handlers.RegisterDataTransfer(r);
        Handlers.RegisterArithmetic(r);
        Handlers.RegisterLogic(r);
        Handlers.RegisterShifts(r);
        Handlers.RegisterBits(r);
        Handlers.RegisterControlFlow(r);
        Handlers.RegisterStack(r);
        Handlers.RegisterLongModeStack(r);
        Handlers.RegisterStrings(r);
        Handlers.RegisterIo(r);
        Handlers.RegisterFlagOps(r);
        Handlers.RegisterSystem(r);
        Handlers.RegisterSystemCalls(r);
        Handlers.RegisterSegmentChecks(r);
        Handlers.RegisterHints(r);
        Handlers.RegisterDescriptors(r);
        Handlers.RegisterSvm(r);
        Handlers.RegisterSse(r);
        Handlers.RegisterX87(r);
        for (int c = 0; c < Filled.Length; c++)
        {
            Filled[c] = r.Registered[c];
        }

        r.Add(Code.INVALID, &Handlers.Invalid);
        return table;
    }
}
