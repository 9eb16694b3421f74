using System.Text;
using Emulator.Cli.Compare;
using Emulator.Hosting.Compare;

namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>
/// Whether emu's console bytes agree with QEMU's recording. emu stops at its milestone, QEMU was
/// stopped after its console had gone quiet: emu's console must be byte-identical to QEMU's as far
/// as both go, reach at least <c>through</c> bytes of it, and print nothing QEMU did not.
/// </summary>
public static class ConsoleAgreement
{
    public const string Prompt = "Shell>";

    /// <summary>Where QEMU's console has shown the prompt: the end of its first <see cref="Prompt"/>.</summary>
    public static int PromptEnd(byte[] qemu)
    {
        int at = qemu.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Prompt));
        if (at < 0)
        {
            throw new InvalidOperationException($"QEMU's console never shows {Prompt}");
        }

        return at + Prompt.Length;
    }

    /// <summary>Null when the consoles agree, else what differs, with the first differing line of each.</summary>
    public static string? Check(byte[] qemu, byte[] emu, int through)
    {
        int common = Math.Min(qemu.Length, emu.Length);
        int differ = qemu.AsSpan(0, common).CommonPrefixLength(emu.AsSpan(0, common));
        if (differ < common)
        {
            return $"emu's console differs from QEMU's at byte {differ}, {Line(qemu, emu, differ)}";
        }

        if (emu.Length < through)
        {
            return $"emu's console ends at byte {emu.Length}, before QEMU's reaches byte {through}; {Line(qemu, emu, emu.Length)}";
        }

        if (emu.Length > qemu.Length)
        {
            return $"emu's console goes on past QEMU's {qemu.Length} bytes; {Line(qemu, emu, qemu.Length)}";
        }

        return null;
    }

    /// <summary>The line holding byte <paramref name="offset"/> in both consoles, escapes shown as in 'emu compare'.</summary>
    private static string Line(byte[] qemu, byte[] emu, int offset)
    {
        int number = qemu.AsSpan(0, offset).Count((byte)'\n');
        return $"line {number + 1}:\n  QEMU: {Shown(qemu, number)}\n  emu:  {Shown(emu, number)}";
    }

    private static string Shown(byte[] console, int number)
    {
        string[] lines = ConsoleLineDiff.Lines(Encoding.Latin1.GetString(console));
        return number < lines.Length ? lines[number] : "<no such line>";
    }
}
