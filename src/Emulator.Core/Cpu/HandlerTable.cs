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

    /// <summary>True when some family implements <paramref name="code"/> (for coverage tests and reports).</summary>
    public static bool IsImplemented(Code code) => Filled[(int)code];

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
        Handlers.RegisterHints(r);
        Handlers.RegisterDescriptors(r);
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
