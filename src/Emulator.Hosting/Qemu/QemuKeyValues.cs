

namespace Emulator.Hosting.Qemu;

/// <summary>
/// QEMU's <c>key=value,key=value</c> option syntax (util/qemu-option.c, opts_do_parse): pairs
/// are separated by commas, and a doubled comma <c>,,</c> is a literal comma inside a value (so a
/// file name may contain commas). The first element may omit its key when the option has an
/// implied one (<c>-machine pc</c> is <c>type=pc</c>). A later duplicate key wins, as QemuOpts'
/// lookup takes the last one. Keys are kept in the order given, for error messages.
/// </summary>
internal sealed class QemuKeyValues
{
    private readonly List<(string Key, string Value)> _pairs;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private QemuKeyValues(List<(string Key, string Value)> pairs)
    {
        _pairs = pairs;
    }

    /// <param name="option">The option as the user wrote it (<c>-drive</c>), for errors.</param>
    /// <param name="text">The option's argument.</param>
    /// <param name="impliedKey">The key of a leading element without '=', or null when every element needs one.</param>
    public static QemuKeyValues Parse(string option, string text, string? impliedKey)
    {
        var pairs = new List<(string, string)>();
        int i = 0;
        bool first = true;
        do
        {
            string element = ReadElement(text, ref i);
            int eq = element.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0 && first && impliedKey != null)
            {
                pairs.Add((impliedKey, Unescape(element)));
            }
            else if (eq < 0)
            {
                // QEMU treats a bare "key" as key=on (a boolean flag).
                if (element.Length == 0)
                {
                    throw new UsageException($"{option} {text}: Invalid parameter ''");
                }

                pairs.Add((Unescape(element), "on"));
            }
            else
            {
                pairs.Add((Unescape(element[..eq]), Unescape(element[(eq + 1)..])));
            }

            first = false;
        }
        while (i < text.Length);

        return new QemuKeyValues(pairs);
    }

    /// <summary>One comma-separated element, escaped commas kept doubled (unescaped by the caller).</summary>
    private static string ReadElement(string text, ref int i)
    {
        int start = i;
        while (i < text.Length)
        {
            if (text[i] == ',')
            {
                if (i + 1 < text.Length && text[i + 1] == ',')
                {
                    i += 2;
                    continue;
                }

                string element = text[start..i];
                i++;
                return element;
            }

            i++;
        }

        return text[start..];
    }

    private static string Unescape(string s) => s.Replace(",,", ",", StringComparison.Ordinal);

    public IEnumerable<string> Keys => _pairs.Select(p => p.Key).Distinct(StringComparer.Ordinal);

    public bool Has(string key) => _pairs.Any(p => p.Key == key);

    /// <summary>The value of <paramref name="key"/> (the last one given), or null; marks the key as understood.</summary>
    public string? Get(string key)
    {
        _used.Add(key);
        for (int i = _pairs.Count - 1; i >= 0; i--)
        {
            if (_pairs[i].Key == key)
            {
                return _pairs[i].Value;
            }
        }

        return null;
    }

    /// <summary>Every value of the given keys in command-line order (QEMU's qemu_opt_foreach, for options that repeat); marks them understood.</summary>
    public IEnumerable<(string Key, string Value)> All(params string[] keys)
    {
        foreach (string key in keys)
        {
            _used.Add(key);
        }

        return _pairs.Where(p => keys.Contains(p.Key)).Select(p => (p.Key, p.Value)).ToList();
    }

    /// <summary>A QEMU boolean (on/off, yes/no, true/false), or <paramref name="fallback"/> when absent.</summary>
    public bool GetBool(string option, string key, bool fallback)
    {
        return Get(key) switch
        {
            null => fallback,
            "on" or "yes" or "true" => true,
            "off" or "no" or "false" => false,
            var v => throw new UsageException($"{option}: Parameter '{key}' expects 'on' or 'off', not '{v}'"),
        };
    }

    /// <summary>The first key nobody asked for, or null.</summary>
    public string? FirstUnknownKey() => _pairs.Select(p => p.Key).FirstOrDefault(k => !_used.Contains(k));

    /// <summary>Every key must have been asked for: anything else is QEMU's "Invalid parameter".</summary>
    public void RejectUnknown(string option, string text)
    {
        if (FirstUnknownKey() is { } key)
        {
            throw new UsageException($"{option} {text}: Invalid parameter '{key}'");
        }
    }
}
