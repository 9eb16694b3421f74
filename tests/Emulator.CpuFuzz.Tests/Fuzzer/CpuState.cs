using System.Text;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The architectural state compared after each instruction: the GPRs in encoding order (RAX,
/// RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15), RIP, RFLAGS, the six selectors (ES, CS, SS, DS,
/// FS, GS), the exception vector the instruction raised (-1: none; the case stops at the
/// handler), when it was read the scratch and stack pages (null: not read at this step), and
/// the SSE state: XMM0..XMM15 and MXCSR.
/// </summary>
public sealed record CpuState(ulong[] Gprs, ulong Rip, ulong Flags, ushort[] Selectors, int Vector, byte[]? Memory, UInt128[] Xmm, uint Mxcsr)
{
    /// <summary>The x87 state (null where it was not read: regression files from before it was compared).</summary>
    public X87State? X87 { get; init; }

    public static readonly string[] GprNames =
        ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

    public static readonly string[] SelectorNames = ["es", "cs", "ss", "ds", "fs", "gs"];

    /// <summary>
    /// The fields that differ, empty when none does. Outside 64-bit mode only the low 32 bits of
    /// the GPRs and RIP are compared and R8..R15 not at all: QEMU's gdb stub shows nothing else
    /// there (target/i386/gdbstub.c, x86_cpu_gdb_read_register without HF_CS64_MASK); nor
    /// XMM8..XMM15, which 32-bit code cannot reach.
    /// </summary>
    public List<string> Differences(CpuState other, FuzzMode mode)
    {
        ulong mask = mode.Bitness() == 64 ? ulong.MaxValue : uint.MaxValue;
        int gprs = mode.Bitness() == 64 ? 16 : 8;
        var differences = new List<string>();
        for (int i = 0; i < gprs; i++)
        {
            if ((Gprs[i] & mask) != (other.Gprs[i] & mask))
            {
                differences.Add($"{GprNames[i]}: {Gprs[i] & mask:x} vs {other.Gprs[i] & mask:x}");
            }
        }

        if ((Rip & mask) != (other.Rip & mask))
        {
            differences.Add($"rip: {Rip & mask:x} vs {other.Rip & mask:x}");
        }

        if (Flags != other.Flags)
        {
            differences.Add($"rflags: {Flags:x} vs {other.Flags:x} (differing bits {FlagNames(Flags ^ other.Flags)})");
        }

        for (int i = 0; i < 6; i++)
        {
            if (Selectors[i] != other.Selectors[i])
            {
                differences.Add($"{SelectorNames[i]}: {Selectors[i]:x} vs {other.Selectors[i]:x}");
            }
        }

        for (int i = 0; i < gprs; i++)
        {
            if (Xmm[i] != other.Xmm[i])
            {
                differences.Add($"xmm{i}: {Xmm[i]:x32} vs {other.Xmm[i]:x32}");
            }
        }

        if (Mxcsr != other.Mxcsr)
        {
            differences.Add($"mxcsr: {Mxcsr:x} vs {other.Mxcsr:x}");
        }

        if (X87 != null && other.X87 != null)
        {
            X87.AddDifferences(other.X87, differences);
        }

        if (Vector != other.Vector)
        {
            differences.Add($"exception: {VectorName(Vector)} vs {VectorName(other.Vector)}");
        }

        if (Memory != null && other.Memory != null)
        {
            for (int i = 0; i < Memory.Length; i++)
            {
                if (Memory[i] != other.Memory[i])
                {
                    differences.Add($"memory {PageAddress(i):x}: {Memory[i]:x2} vs {other.Memory[i]:x2}");
                    if (differences.Count > 40)
                    {
                        break;
                    }
                }
            }
        }

        return differences;
    }

    /// <summary>The guest address of byte <paramref name="index"/> of <see cref="Memory"/>.</summary>
    public static ulong PageAddress(int index) =>
        index < FuzzLayout.PageSize ? FuzzLayout.ScratchPage + (ulong)index : FuzzLayout.StackPage + (ulong)(index - FuzzLayout.PageSize);

    public static string VectorName(int vector) => vector < 0 ? "none" : $"vector {vector}";

    private static readonly (int Bit, string Name)[] FlagBits =
        [(0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"), (10, "DF"), (11, "OF"), (16, "RF"), (17, "VM"), (18, "AC"), (21, "ID")];

    public static string FlagNames(ulong bits)
    {
        var names = FlagBits.Where(f => (bits >> f.Bit & 1) != 0).Select(f => f.Name).ToList();
        ulong known = FlagBits.Aggregate(0UL, (m, f) => m | 1UL << f.Bit);
        if ((bits & ~known) != 0)
        {
            names.Add($"other {bits & ~known:x}");
        }

        return string.Join(" ", names);
    }

    public string Format(FuzzMode mode)
    {
        int gprs = mode.Bitness() == 64 ? 16 : 8;
        var text = new StringBuilder();
        for (int i = 0; i < gprs; i++)
        {
            text.Append($"{GprNames[i]}={Gprs[i]:x} ");
        }

        text.Append($"rip={Rip:x} rflags={Flags:x} ");
        for (int i = 0; i < 6; i++)
        {
            text.Append($"{SelectorNames[i]}={Selectors[i]:x} ");
        }

        for (int i = 0; i < gprs; i++)
        {
            text.Append($"xmm{i}={Xmm[i]:x} ");
        }

        text.Append($"mxcsr={Mxcsr:x} exception={VectorName(Vector)}");
        if (X87 != null)
        {
            text.Append(' ').Append(X87.Format());
        }

        return text.ToString();
    }
}
