using Iced.Intel;

namespace Emulator.Core.Cpu;

/// <summary>
/// Builds the dispatch table: for every Iced <see cref="Code"/> and operand size (1, 2, 4, 8
/// bytes) a function pointer. Families register by mnemonic (every encoding of ADD, say) or by
/// exact code; a later registration overrides an earlier one, so a family can register a
/// mnemonic broadly and then special-case a few encodings.
/// </summary>
internal sealed unsafe class HandlerRegistry
{
    private static readonly Mnemonic[] CodeMnemonics = BuildMnemonics();

    /// <summary>A registry of its own (tests enumerate what families register without the shared table).</summary>
    internal HandlerRegistry(delegate*<Cpu, ref DecodedOp, void>[] table)
        : this(table, new delegate*<Cpu, ref DecodedOp, void>[table.Length])
    {
    }

    internal HandlerRegistry(delegate*<Cpu, ref DecodedOp, void>[] table, delegate*<Cpu, ref DecodedOp, void>[] registerForms)
    {
        Table = table;
        RegisterForms = registerForms;
    }

    internal delegate*<Cpu, ref DecodedOp, void>[] Table { get; }

    /// <summary>
    /// Per code and size, an optional handler for the case where no operand is in memory
    /// (operand 0 a general register): chosen at decode time, it has no memory path at all, so it
    /// compiles to a frameless leaf. Null where the general handler is used for every form.
    /// </summary>
    internal delegate*<Cpu, ref DecodedOp, void>[] RegisterForms { get; }

    /// <summary>Codes some family registered (for coverage tests and the unimplemented list).</summary>
    internal bool[] Registered { get; } = new bool[CodeCount.Value];

    internal static int SizeIndex(int size) => size switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 };

    /// <summary>One handler for every operand size of <paramref name="code"/>.</summary>
    public void Add(Code code, delegate*<Cpu, ref DecodedOp, void> handler)
    {
        Registered[(int)code] = true;
        for (int s = 0; s < 4; s++)
        {
            Table[(int)code * 4 + s] = handler;
            RegisterForms[(int)code * 4 + s] = null;
        }
    }

    /// <summary>The register-only handler of <paramref name="code"/>, every operand size (added after its general handler).</summary>
    public void AddRegisterForm(Code code, delegate*<Cpu, ref DecodedOp, void> handler)
    {
        for (int s = 0; s < 4; s++)
        {
            RegisterForms[(int)code * 4 + s] = handler;
        }
    }

    /// <summary>Every encoding (Iced <see cref="Code"/>) of <paramref name="mnemonic"/>.</summary>
    public static IEnumerable<Code> CodesOf(Mnemonic mnemonic)
    {
        for (int c = 0; c < CodeMnemonics.Length; c++)
        {
            if (CodeMnemonics[c] == mnemonic)
            {
                yield return (Code)c;
            }
        }
    }

    /// <summary>One handler for every encoding of <paramref name="mnemonic"/>.</summary>
    public void Add(Mnemonic mnemonic, delegate*<Cpu, ref DecodedOp, void> handler)
    {
        foreach (var code in CodesOf(mnemonic))
        {
            Add(code, handler);
        }
    }

    public void Add(
        Mnemonic mnemonic,
        delegate*<Cpu, ref DecodedOp, void> size1,
        delegate*<Cpu, ref DecodedOp, void> size2,
        delegate*<Cpu, ref DecodedOp, void> size4,
        delegate*<Cpu, ref DecodedOp, void> size8)
    {
        foreach (var code in CodesOf(mnemonic))
        {
            Registered[(int)code] = true;
            SetBySize(Table, code, size1, size2, size4, size8);
            SetBySize(RegisterForms, code, null, null, null, null);
        }
    }

    /// <summary>The register-only handler of <paramref name="code"/> at operand size <paramref name="size"/> (added after the general ones).</summary>
    public void AddRegisterForm(Code code, int size, delegate*<Cpu, ref DecodedOp, void> handler) =>
        RegisterForms[(int)code * 4 + SizeIndex(size)] = handler;

    private static void SetBySize(
        delegate*<Cpu, ref DecodedOp, void>[] table,
        Code code,
        delegate*<Cpu, ref DecodedOp, void> size1,
        delegate*<Cpu, ref DecodedOp, void> size2,
        delegate*<Cpu, ref DecodedOp, void> size4,
        delegate*<Cpu, ref DecodedOp, void> size8)
    {
        int c = (int)code * 4;
        table[c] = size1;
        table[c + 1] = size2;
        table[c + 2] = size4;
        table[c + 3] = size8;
    }

    private static Mnemonic[] BuildMnemonics()
    {
        var result = new Mnemonic[CodeCount.Value];
        for (int c = 0; c < result.Length; c++)
        {
            result[c] = ((Code)c).Mnemonic();
        }

        return result;
    }
}
