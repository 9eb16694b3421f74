using System.Text;
using System.Text.Json;
using Emulator.Cli.CommandLine;

namespace Emulator.Cli.Boot;

/// <summary>
/// <c>firmware list [--vm NAME]</c>: the QEMU firmware descriptors emu finds, in the order it
/// considers them, which one <c>emu boot</c> without firmware options would use, why each other
/// one is passed over, and the VM's varstore; <c>--json</c> gives the same as one JSON object
/// (for scripts: libvirt-style tooling asks which firmware and which nvram a VM will get). Exit
/// status 0 when a firmware would be chosen, 1 when none.
/// </summary>
public sealed class FirmwareCommand(Stream stdout, FirmwareSearch search)
{
    public int Run(ParsedArguments a)
    {
        string vm = a.Get("--vm") ?? DefaultFirmware.DefaultVm;
        DefaultFirmware.CheckVmName(vm);
        var (chosen, entries) = DefaultFirmware.Choose(search);
        using var output = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 12, leaveOpen: true);
        if (a.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(Listing(vm, chosen, entries), Vars.VarsCommand.Json));
            return chosen == null ? 1 : 0;
        }

        output.WriteLine($"descriptor directories (general to specific; a later file of the same name replaces an earlier one, an empty one hides it):");
        foreach (string dir in search.DescriptorDirectories)
        {
            output.WriteLine($"  {dir}{(Directory.Exists(dir) ? string.Empty : "  (absent)")}");
        }

        output.WriteLine($"descriptors by file name (the first usable one for {FirmwareDescriptors.Architecture} {FirmwareDescriptors.MachineType} wins):");
        if (entries.Count == 0)
        {
            output.WriteLine("  none");
        }

        foreach (var e in entries)
        {
            string verdict = e.Skipped != null ? "skipped: " + e.Skipped
                : e.Path == chosen?.Descriptor ? $"CHOSEN: {Describe(chosen)}"
                : "usable, but an earlier one wins";
            output.WriteLine($"{(e.Path == chosen?.Descriptor ? "*" : " ")} {e.Name}  {verdict}");
            output.WriteLine($"      {e.Path}{(e.Hides.Count > 0 && e.Descriptor != null ? "  (replaces " + string.Join(", ", e.Hides) + ")" : string.Empty)}");
        }

        if (chosen == null)
        {
            output.WriteLine("no firmware: install OVMF (apt-get install ovmf) or pass --code FILE [--vars FILE] to emu boot");
            return 1;
        }

        if (chosen.Descriptor == null)
        {
            output.WriteLine($"* fetched fixtures (no usable descriptor)  CHOSEN: {Describe(chosen)}");
        }

        if (chosen.Template != null)
        {
            string copy = DefaultFirmware.VarstorePath(search, vm);
            output.WriteLine($"varstore of VM '{vm}': {copy}{(File.Exists(copy) ? string.Empty : " (made from the template at its first boot)")}");
        }

        return 0;
    }

    private object Listing(string vm, DefaultFirmware.Candidate? chosen, IReadOnlyList<DescriptorEntry> entries) => new
    {
        directories = search.DescriptorDirectories.Select(d => new { path = d, exists = Directory.Exists(d) }),
        descriptors = entries.Select(e => new
        {
            name = e.Name,
            path = e.Path,
            chosen = e.Path == chosen?.Descriptor,
            usable = e.Skipped == null,
            skipped = e.Skipped,
            malformed = e.Malformed,
            replaces = e.Hides,
        }),
        chosen = chosen == null ? null : new
        {
            descriptor = chosen.Descriptor,
            source = chosen.Descriptor != null ? "descriptor" : "fixtures",
            mode = chosen.Mode.ToString().ToLowerInvariant(),
            executable = chosen.Executable,
            template = chosen.Template,
        },
        varstore = chosen?.Template == null ? null : new
        {
            vm,
            path = DefaultFirmware.VarstorePath(search, vm),
            exists = File.Exists(DefaultFirmware.VarstorePath(search, vm)),
        },
    };

    private static string Describe(DefaultFirmware.Candidate c) => c.Mode switch
    {
        FlashMode.Split => $"split, code {c.Executable}, varstore template {c.Template}",
        FlashMode.Combined => $"combined, image {c.Executable} (copied per VM)",
        _ => $"stateless, code {c.Executable} (no varstore)",
    };
}
