using System.Globalization;
using Emulator.Hosting.Inputs;

namespace Emulator.Hosting.Serial;

/// <summary>
/// Text given on the command line for the console: <c>\r</c>, <c>\n</c>, <c>\t</c>, <c>\e</c>
/// (ESC), <c>\\</c> and <c>\xNN</c> escapes, so a shell command line can type Enter and ESC;
/// or <c>@FILE</c> for a file's raw bytes.
/// </summary>
internal static class TextEscapes
{
    /// <summary>The bytes of <paramref name="value"/> (<paramref name="option"/> names it in errors).</summary>
    public static byte[] Decode(string option, string value)
    {
        if (value.StartsWith('@'))
        {
            return InputFile.Read(InputRole.Script(option), value[1..]);
        }

        var bytes = new List<byte>(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c > 0xFF)
            {
                throw new UsageException($"{option}: '{c}' is not a single-byte character (use \\xNN)");
            }

            if (c != '\\')
            {
                bytes.Add((byte)c);
                continue;
            }

            if (++i >= value.Length)
            {
                throw new UsageException($"{option}: '\\' at the end of '{value}' (write \\\\ for a backslash)");
            }

            switch (value[i])
            {
                case 'r': bytes.Add((byte)'\r'); break;
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'e': bytes.Add(0x1B); break;
                case '\\': bytes.Add((byte)'\\'); break;
                // Two hex digits exactly: HexNumber would also take "\x 1" (white space) as 0x01.
                case 'x' when i + 2 < value.Length && byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b):
                    bytes.Add(b);
                    i += 2;
                    break;
                default:
                    throw new UsageException($"{option}: unknown escape '\\{value[i]}' in '{value}' (known: \\r \\n \\t \\e \\\\ \\xNN)");
            }
        }

        return [.. bytes];
    }
}
