namespace Emulator.Cli.CommandLine;

/// <summary>
/// A small GNU-style option reader: `--name value`, `--name=value` and flags. Every command
/// declares what it accepts; anything else is a usage error naming the option.
/// </summary>
public sealed class ArgumentReader
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];
    private readonly List<(string Name, string Value)> _repeated = [];

    /// <param name="repeatable">Value options that may be given many times; their order is kept (<see cref="GetAll"/>).</param>
    public ArgumentReader(IEnumerable<string> args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> flagOptions, IReadOnlySet<string>? repeatable = null)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                _positionals.Add(arg);
                continue;
            }

            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (eq > 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }

            if (flagOptions.Contains(name))
            {
                if (inline != null)
                {
                    throw new UsageException($"option {name} takes no value");
                }

                _values[name] = null;
            }
            else if (valueOptions.Contains(name) || repeatable?.Contains(name) == true)
            {
                if (inline == null)
                {
                    if (!e.MoveNext())
                    {
                        throw new UsageException($"option {name} needs a value");
                    }

                    inline = e.Current;
                }

                if (repeatable?.Contains(name) == true)
                {
                    _repeated.Add((name, inline));
                    _values[name] = inline;
                    continue;
                }

                if (_values.ContainsKey(name))
                {
                    throw new UsageException($"option {name} given twice");
                }

                _values[name] = inline;
            }
            else
            {
                throw new UsageException($"unknown option {name}");
            }
        }
    }

    public IReadOnlyList<string> Positionals => _positionals;

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>Every occurrence of the repeatable options, in command-line order.</summary>
    public IReadOnlyList<(string Name, string Value)> GetAll() => _repeated;

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public long? GetLong(string name)
    {
        string? v = Get(name);
        if (v == null)
        {
            return null;
        }

        v = v.Replace("_", string.Empty, StringComparison.Ordinal);
        if (!long.TryParse(v, out long result) || result < 0)
        {
            throw new UsageException($"option {name} needs a non-negative whole number, not '{Get(name)}'");
        }

        return result;
    }
}
