using System.Text.Json;
using System.Text;
using Emulator.Cli.CommandLine;
using Emulator.Firmware.Varstore;
using Emulator.Hosting.Reporting;
using Emulator.Hosting.Vars;

namespace Emulator.Cli.Vars;

/// <summary>
/// <c>vars list|get|check|set|delete|convert</c>: reads and edits OVMF varstores without booting.
/// Exit status: 0 done (check: valid), 1 ran but the answer is no (check: invalid; get: no such
/// variable), 2 bad input.
/// </summary>
public sealed class VarsCommand(Stream stdout)
{
    public const string Usage = """
          vars list VARS.fd [--all] [--json]            live variables (--all: deleted and incomplete records too)
          vars get VARS.fd NAME [--guid G] [--raw|--hex]  a variable's data (hex dump by default)
          vars check VARS.fd [--json]                   validate as the firmware does; exit 0 valid, 1 it would repair or reject it
          vars set VARS.fd NAME --guid G (--data-hex H | --data-file F) [--attributes nv,bs,rt]
          vars delete VARS.fd NAME --guid G
          vars convert --from OLD.fd --template NEW_TEMPLATE.fd -o NEW.fd [--force]
                   (G may be 'global' for EFI_GLOBAL_VARIABLE)
        """;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public int Run(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new UsageException("vars needs a subcommand: list, get, check, set, delete or convert");
        }

        using var output = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 14, leaveOpen: true);
        var rest = args.Skip(1);
        return args[0] switch
        {
            "list" => List(new ArgumentReader(rest, new HashSet<string>(), new HashSet<string> { "--all", "--json" }), output),
            "get" => Get(new ArgumentReader(rest, new HashSet<string> { "--guid" }, new HashSet<string> { "--raw", "--hex" }), output),
            "check" => Check(new ArgumentReader(rest, new HashSet<string>(), new HashSet<string> { "--json" }), output),
            "set" or "delete" or "convert" => new VarsEditCommands(output).Run(args[0], rest),
            _ => throw new UsageException($"unknown vars subcommand '{args[0]}' (list, get, check, set, delete, convert)"),
        };
    }

    internal static string Positional(ArgumentReader a, int index, string what, int count)
    {
        if (a.Positionals.Count != count)
        {
            throw new UsageException(a.Positionals.Count < count ? $"missing {what}" : $"unexpected argument '{a.Positionals[count]}'");
        }

        return a.Positionals[index];
    }

    /// <summary>Loads and parses a store that must at least have readable headers.</summary>
    internal static (byte[] Bytes, VarstoreImage Image) LoadUsable(string path)
    {
        byte[] bytes = VarsFiles.Load(path);
        var image = VarstoreImage.Parse(bytes);
        if (!image.IsUsable)
        {
            throw new UsageException($"'{path}' is not a varstore: {image.Errors.FirstOrDefault()}");
        }

        return (bytes, image);
    }

    private static int List(ArgumentReader a, TextWriter output)
    {
        string path = Positional(a, 0, "VARS file", 1);
        var (_, image) = LoadUsable(path);
        var records = a.Has("--all") ? image.Records : image.LiveVariables.ToList();
        if (a.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(
                new
                {
                    File = path,
                    Format = image.IsAuthenticated ? "authenticated" : "plain",
                    StoreOffset = Hex.Format((ulong)image.StoreOffset),
                    image.StoreSize,
                    image.FreeBytes,
                    image.ReclaimableBytes,
                    Variables = records.Select(r => new
                    {
                        r.Name,
                        Vendor = r.VendorGuid,
                        Attributes = VariableAttributeNames.Format(r.Attributes),
                        AttributeBits = (uint)r.Attributes,
                        Size = r.DataSize,
                        State = r.StateName,
                        r.IsLive,
                        Offset = Hex.Format((ulong)r.Offset),
                    }),
                },
                Json));
            return 0;
        }

        int live = image.LiveVariables.Count();
        output.WriteLine($"{path}: {(image.IsAuthenticated ? "authenticated" : "plain")} variable store, 0x{image.StoreSize:X} bytes at 0x{image.StoreOffset:X}; "
            + $"{live} live variable{(live == 1 ? string.Empty : "s")}, {image.FreeBytes} bytes free, {image.ReclaimableBytes} reclaimable");
        if (!image.IsValid || image.NeedsRepair)
        {
            // The list is what the store holds now; the firmware's next boot may change it (a reclaim drops
            // records after a broken header, a rejected store is not used at all).
            output.WriteLine($"note: the firmware would {(image.IsValid ? "repair" : "reject")} this store at its next boot; 'emu vars check {path}' says what and where");
        }

        if (records.Count == 0)
        {
            return 0;
        }

        int width = Math.Max(4, records.Max(r => r.Name.Length));
        output.WriteLine($"{"NAME".PadRight(width)}  {"VENDOR GUID",-36}  {"ATTRIBUTES",-10}  {"SIZE",6}  {"OFFSET",7}  STATE");
        foreach (var r in records)
        {
            output.WriteLine($"{r.Name.PadRight(width)}  {r.VendorGuid,-36}  {VariableAttributeNames.Format(r.Attributes),-10}  {r.DataSize,6}  {"0x" + r.Offset.ToString("X"),7}  {r.StateName}");
        }

        return 0;
    }

    private static int Get(ArgumentReader a, StreamWriter output)
    {
        string path = Positional(a, 0, "VARS file and variable NAME", 2);
        string name = a.Positionals[1];
        if (a.Has("--raw") && a.Has("--hex"))
        {
            throw new UsageException("use --raw or --hex, not both");
        }

        Guid? vendor = a.Get("--guid") is { } g ? VarsText.ParseGuid(g) : null;
        var (_, image) = LoadUsable(path);
        VariableRecord? record;
        try
        {
            record = image.Find(name, vendor);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException(e.Message);
        }

        if (record is null)
        {
            throw new VariableNotFoundException($"no variable '{name}'{(vendor is { } v ? $" with vendor GUID {v}" : string.Empty)} in '{path}'");
        }

        if (a.Has("--raw"))
        {
            output.Flush();
            output.BaseStream.Write(record.Data.Span);
        }
        else if (a.Has("--hex"))
        {
            output.WriteLine(Convert.ToHexStringLower(record.Data.Span));
        }
        else
        {
            output.WriteLine($"{record.Name} {record.VendorGuid} {VariableAttributeNames.Format(record.Attributes)} {record.DataSize} bytes");
            VarsText.HexDump(output, record.Data.Span);
        }

        return 0;
    }

    /// <summary>
    /// Exit 0 when the firmware would take the store as it is (notes allowed), 1 when it would
    /// repair or reject it: either way the file is not what the firmware will run with.
    /// </summary>
    private static int Check(ArgumentReader a, TextWriter output)
    {
        string path = Positional(a, 0, "VARS file", 1);
        var image = VarstoreImage.Parse(VarsFiles.Load(path));
        var verdict = VarsText.Verdict(image);
        if (a.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(
                new
                {
                    File = path,
                    image.IsValid,
                    image.NeedsRepair,
                    Verdict = verdict.Kind,
                    Issues = image.Issues.Select(i => new { Offset = Hex.Format((ulong)i.Offset), Class = VarsText.ClassName(i.Class), i.Message }),
                    LostRecords = image.UnreachableRecords.Select(r => new { r.Name, Vendor = r.VendorGuid, State = r.StateName, Offset = Hex.Format((ulong)r.Offset) }),
                    image.Errors,
                    image.Warnings,
                    Structure = Describe(image),
                },
                Json));
            return verdict.ExitCode;
        }

        output.WriteLine($"{path}: {verdict.Headline}");
        foreach (string line in Describe(image))
        {
            output.WriteLine("  " + line);
        }

        foreach (var issue in image.Issues)
        {
            output.WriteLine($"  {VarsText.ClassName(issue.Class),-6} 0x{issue.Offset:X}: {issue.Message}");
        }

        output.WriteLine("verdict: " + verdict.Line);
        return verdict.ExitCode;
    }

    private static List<string> Describe(VarstoreImage image)
    {
        var lines = new List<string>();
        if (image.FvLength == 0)
        {
            return lines;
        }

        lines.Add($"firmware volume: 0x{image.FvLength:X} bytes, header 0x{image.FvHeaderLength:X}, checksum {(image.FvChecksumValid ? "ok" : "WRONG")}, "
            + $"blocks {string.Join("+", image.BlockMap.Select(b => $"{b.NumBlocks}x0x{b.BlockLength:X}"))}, attributes 0x{image.FvAttributes:X8}{(image.IsUnifiedImage ? " (unified image: code follows)" : string.Empty)}");
        if (image.IsUsable)
        {
            lines.Add($"variable store: {(image.IsAuthenticated ? "authenticated" : "plain")}, 0x{image.StoreSize:X} bytes at 0x{image.StoreOffset:X}, "
                + $"{image.Records.Count} records ({image.LiveVariables.Count()} live), next record at 0x{image.EndOfRecords:X}, {image.FreeBytes} bytes free");
        }

        if (image.Ftw is { } ftw)
        {
            string queue = !ftw.HeaderValid ? "header INVALID" : $"queue 0x{ftw.WriteQueueSize:X} bytes {(ftw.WriteQueueEmpty ? "empty" : ftw.WritesComplete ? "used, writes complete" : "with an unfinished write")}";
            lines.Add($"FTW working block: 0x{ftw.Offset:X}, CRC {(ftw.CrcValid ? "ok" : "WRONG")}, {(ftw.MarkedValid ? "marked valid" : "not marked valid")}, {queue}; "
                + $"spare 0x{ftw.SpareLength:X} bytes at 0x{ftw.SpareOffset:X}");
        }

        return lines;
    }
}
