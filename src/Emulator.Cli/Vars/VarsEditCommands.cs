using Emulator.Cli.CommandLine;
using Emulator.Firmware.Varstore;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Vars;

namespace Emulator.Cli.Vars;

/// <summary><c>vars set</c>, <c>vars delete</c> and <c>vars convert</c>: the commands that write files.</summary>
public sealed class VarsEditCommands(TextWriter output)
{
    private const string DefaultAttributes = "nv,bs,rt";

    public int Run(string command, IEnumerable<string> args) => command switch
    {
        "set" => Set(new ArgumentReader(args, new HashSet<string> { "--guid", "--data-hex", "--data-file", "--attributes" }, new HashSet<string>())),
        "delete" => Delete(new ArgumentReader(args, new HashSet<string> { "--guid" }, new HashSet<string>())),
        _ => Convert(new ArgumentReader(args.Select(x => x == "-o" ? "--output" : x), new HashSet<string> { "--from", "--template", "--output" }, new HashSet<string> { "--force" })),
    };

    private int Set(ArgumentReader a)
    {
        string path = VarsCommand.Positional(a, 0, "VARS file and variable NAME", 2);
        string name = a.Positionals[1];
        Guid vendor = VarsText.ParseGuid(a.Get("--guid") ?? throw new UsageException("vars set needs --guid G (the variable's vendor GUID)"));
        var attributes = VarsText.ParseAttributes(a.Get("--attributes") ?? DefaultAttributes);
        byte[] data = (a.Get("--data-hex"), a.Get("--data-file")) switch
        {
            ({ } hex, null) => VarsText.ParseHex(hex),
            (null, { } file) => InputFile.Read(InputRole.VariableData, file),
            (null, null) => throw new UsageException("vars set needs the data: --data-hex H or --data-file F"),
            _ => throw new UsageException("use --data-hex or --data-file, not both"),
        };

        byte[] original = VarsFiles.Load(path);
        return Apply(path, original, Edit(() => VarstoreEditor.Set(original, name, vendor, attributes, data)));
    }

    private int Delete(ArgumentReader a)
    {
        string path = VarsCommand.Positional(a, 0, "VARS file and variable NAME", 2);
        string name = a.Positionals[1];
        Guid vendor = VarsText.ParseGuid(a.Get("--guid") ?? throw new UsageException("vars delete needs --guid G (the variable's vendor GUID)"));
        byte[] original = VarsFiles.Load(path);
        if (VarstoreImage.Parse(original) is { IsValid: true } image && !image.LiveVariables.Any(r => r.Name == name && r.VendorGuid == vendor))
        {
            throw new VariableNotFoundException($"no variable '{name}' with vendor GUID {vendor} in '{path}'");
        }

        return Apply(path, original, Edit(() => VarstoreEditor.Delete(original, name, vendor)));
    }

    private int Convert(ArgumentReader a)
    {
        if (a.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{a.Positionals[0]}' (vars convert --from OLD.fd --template NEW_TEMPLATE.fd -o NEW.fd)");
        }

        string from = a.Get("--from") ?? throw new UsageException("vars convert needs --from OLD.fd");
        string template = a.Get("--template") ?? throw new UsageException("vars convert needs --template NEW_TEMPLATE.fd (an empty VARS file of the target build)");
        string target = a.Get("--output") ?? throw new UsageException("vars convert needs -o NEW.fd");

        byte[] source = VarsFiles.Load(from, "--from vars");
        byte[] layout = VarsFiles.Load(template, "--template vars");
        if (File.Exists(target) && !a.Has("--force"))
        {
            throw new UsageException($"output '{target}' exists: give --force to replace it");
        }

        VarstoreConverter.Result result;
        try
        {
            result = VarstoreConverter.Convert(source, layout);
        }
        catch (VarstoreException e)
        {
            throw new UsageException($"cannot convert '{from}': {e.Message}");
        }

        VarsFiles.WriteNew(target, result.Store, a.Has("--force"));
        output.WriteLine($"{target}: {result.Variables} variable{(result.Variables == 1 ? string.Empty : "s")} from {from} ({VarsText.KiB(source.Length)}) "
            + $"in the layout of {template} ({VarsText.KiB(layout.Length)}); {result.BytesUsed} of {result.BytesAvailable} bytes used");
        foreach (string note in result.Notes)
        {
            output.WriteLine("note: " + note);
        }

        return 0;
    }

    private static VarstoreEdit Edit(Func<VarstoreEdit> edit)
    {
        try
        {
            return edit();
        }
        catch (Exception e) when (e is VarstoreException or InvalidOperationException)
        {
            throw new UsageException(e.Message);
        }
    }

    private int Apply(string path, byte[] original, VarstoreEdit edit)
    {
        if (edit.Writes.Count > 0)
        {
            VarsFiles.ApplyInPlace(path, original, edit.Writes);
        }

        output.WriteLine($"{path}: {edit.Summary}");
        return 0;
    }
}
