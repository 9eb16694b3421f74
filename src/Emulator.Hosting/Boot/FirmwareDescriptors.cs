using System.Text.Json;
using System.Text.RegularExpressions;
using Emulator.Core.Machine;
using Emulator.Hosting.Inputs;

namespace Emulator.Hosting.Boot;

/// <summary>
/// A descriptor file name and what became of it: the file that takes effect, the same-named
/// files in less specific directories it hides, its parse, and why it cannot serve emu (null: it can).
/// <paramref name="Malformed"/> marks a file that is no descriptor at all (unreadable, not JSON,
/// wrong schema), which is worth a warning; the other reasons are ordinary.
/// </summary>
public sealed record DescriptorEntry(string Name, string Path, IReadOnlyList<string> Hides, FirmwareDescriptor? Descriptor, string? Skipped, bool Malformed = false)
{
    /// <summary>Whether this descriptor can be booted (no reason to skip it).</summary>
    public bool Usable => Skipped == null;
}

/// <summary>
/// QEMU's firmware descriptors, found and judged the way management software does (QEMU
/// docs/interop/firmware.json, "@Firmware"; libvirt src/qemu/qemu_firmware.c): every <c>*.json</c>
/// of the directories, one per file name with the most specific directory's file taking effect
/// (an empty one hides the name altogether), sorted by file name; the first that matches wins.
/// </summary>
public static class FirmwareDescriptors
{
    /// <summary>The emulation target: emu's machine is QEMU's qemu-system-x86_64 <c>pc</c>.</summary>
    public const string Architecture = "x86_64";

    /// <summary>What QEMU 7.2's <c>-machine pc</c> resolves to; descriptors name concrete types or globs of them.</summary>
    public const string MachineType = PcMachine.MachineTypeName;

    /// <summary>
    /// Features that need a platform emu's pc machine is not: it has no SMM, and secure boot
    /// without SMM is not secure (firmware.json, @secure-boot), so those builds are passed over
    /// as libvirt passes them over for a VM without SMM.
    /// </summary>
    private static readonly string[] UnsupportedFeatures = ["requires-smm", "secure-boot", "enrolled-keys"];

    /// <summary>Every descriptor name in the directories, in the order they are considered.</summary>
    public static IReadOnlyList<DescriptorEntry> Evaluate(IReadOnlyList<string> directories)
    {
        var byName = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string dir in directories)
        {
            foreach (string path in JsonFiles(dir))
            {
                string name = System.IO.Path.GetFileName(path);
                if (!byName.TryGetValue(name, out var paths))
                {
                    byName[name] = paths = [];
                }

                paths.Add(path);
            }
        }

        return byName.Select(kv => Judge(kv.Key, kv.Value[^1], kv.Value[..^1])).ToList();
    }

    /// <summary>Why <paramref name="d"/> cannot be booted by emu, every reason joined with "; ", or null when it can.</summary>
    public static string? WhyNotUsable(FirmwareDescriptor d)
    {
        var reasons = new List<string>();
        if (!d.InterfaceTypes.Contains("uefi"))
        {
            reasons.Add($"interface {string.Join("/", d.InterfaceTypes)}, not uefi");
        }

        if (d.Device != "flash")
        {
            reasons.Add($"device '{d.Device}': emu boots flash firmware");
        }

        reasons.AddRange(new[] { d.ExecutableFormat, d.NvramTemplateFormat }.Where(f => f is not (null or "raw")).Select(f => $"format '{f}': emu maps raw images only"));
        if (!d.Targets.Any(t => t.Architecture == Architecture && t.Machines.Any(m => GlobMatches(m, MachineType))))
        {
            var own = d.Targets.Where(t => t.Architecture == Architecture).SelectMany(t => t.Machines).ToList();
            reasons.Add(own.Count > 0
                ? $"machines {string.Join(", ", own)}: none is emu's {MachineType}"
                : $"targets {string.Join(", ", d.Targets.Select(t => t.Architecture))}: not {Architecture}");
        }

        var unsupported = UnsupportedFeatures.Where(d.Features.Contains).ToList();
        if (unsupported.Count > 0)
        {
            reasons.Add($"features {string.Join(", ", unsupported)}: emu's pc machine has no SMM");
        }

        // Descriptors name absolute paths; a relative one would depend on the directory emu runs in.
        reasons.AddRange(new[] { d.Executable, d.NvramTemplate }.OfType<string>().Select(f =>
            !Path.IsPathFullyQualified(f) ? $"'{f}' is not an absolute path" : !File.Exists(f) ? $"'{f}' does not exist" : null).OfType<string>());
        return reasons.Count > 0 ? string.Join("; ", reasons) : null;
    }

    /// <summary>
    /// QEMU's machine globs (firmware.json @FirmwareTarget: "pc-i440fx-*" matches
    /// "pc-i440fx-2.12"); libvirt matches them with g_pattern_match_simple, '*' and '?' only.
    /// </summary>
    public static bool GlobMatches(string glob, string machine) =>
        Regex.IsMatch(machine, "^" + Regex.Escape(glob).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);

    private static IEnumerable<string> JsonFiles(string dir)
    {
        try
        {
            // Exact suffix: on Windows "*.json" would also match "x.jsonx".
            return Directory.Exists(dir) ? Directory.GetFiles(dir, "*.json").Where(f => f.EndsWith(".json", StringComparison.Ordinal)) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static DescriptorEntry Judge(string name, string path, IReadOnlyList<string> hides)
    {
        DescriptorEntry Refused(string why, bool malformed = false) => new(name, path, hides, null, why, malformed);
        try
        {
            if (InputFile.Check(InputRole.Descriptor, path) == 0)
            {
                return Refused(hides.Count > 0 ? "empty: hides " + string.Join(", ", hides) : "empty");
            }

            var descriptor = FirmwareDescriptor.Parse(InputFile.Read(InputRole.Descriptor, path));
            return new DescriptorEntry(name, path, hides, descriptor, WhyNotUsable(descriptor));
        }
        catch (UsageException e)
        {
            return Refused(e.Message, malformed: true);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return Refused("not a firmware descriptor: " + e.Message, malformed: true);
        }
    }
}
