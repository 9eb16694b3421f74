using System.Text.RegularExpressions;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;
using Emulator.Hosting.Vars;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Boot;

/// <summary>
/// <c>emu boot</c> without <c>--code</c>/<c>--vars</c>/<c>--firmware</c>: the firmware the host's
/// QEMU firmware descriptors offer (<see cref="FirmwareDescriptors"/>), else a source checkout's
/// fetched fixtures; and the VM's own varstore, a copy of the descriptor's NVRAM template kept in
/// the state directory the way libvirt keeps /var/lib/libvirt/qemu/nvram/DOMAIN_VARS.fd
/// (libvirt src/qemu/qemu_firmware.c, qemuFirmwareEnsureNVRAM), so variables persist across boots.
/// </summary>
public static partial class DefaultFirmware
{
    /// <summary>The VM whose varstore copy a boot without <c>--vm</c> uses.</summary>
    public const string DefaultVm = "default";

    /// <summary>Where the firmware came from: a descriptor's path, or the fixture cache (<paramref name="Descriptor"/> null).</summary>
    public sealed record Candidate(string? Descriptor, FlashMode Mode, string Executable, string? Template)
    {
        /// <summary>Where the firmware came from, for messages: the descriptor's file name or "fetched fixtures".</summary>
        public string Source => Descriptor != null ? $"descriptor {Path.GetFileName(Descriptor)}" : "fetched fixtures";
    }

    /// <summary>The first usable descriptor, else the fixtures, else null; and every descriptor's verdict.</summary>
    public static (Candidate? Chosen, IReadOnlyList<DescriptorEntry> Entries) Choose(FirmwareSearch search)
    {
        var entries = FirmwareDescriptors.Evaluate(search.DescriptorDirectories);
        Candidate? chosen = entries.FirstOrDefault(e => e.Usable) is { Descriptor: { } d } entry
            ? new Candidate(entry.Path, d.Mode, d.Executable!, d.Mode == FlashMode.Stateless ? null : d.Mode == FlashMode.Combined ? d.Executable : d.NvramTemplate)
            : search.FixtureCache is { } cache
                ? new Candidate(null, FlashMode.Split, Path.Combine(cache, FirmwareSearch.FixtureCode), Path.Combine(cache, FirmwareSearch.FixtureVars))
                : null;
        return (chosen, entries);
    }

    /// <summary>The VM's varstore: <c>NAME_VARS.fd</c> in the state directory, libvirt's name for a domain's NVRAM copy.</summary>
    public static string VarstorePath(FirmwareSearch search, string vm) => Path.Combine(search.StateDirectory, $"{vm}_VARS.fd");

    /// <summary>
    /// A VM name is a file name part: letters, digits, '.', '_', '+', '-', not starting with '.'
    /// (no path can be smuggled in). One-line <see cref="UsageException"/> otherwise.
    /// </summary>
    public static void CheckVmName(string vm)
    {
        if (!VmName().IsMatch(vm))
        {
            throw new UsageException($"--vm '{vm}': a VM name is 1-64 letters, digits, '.', '_', '+' or '-', not starting with '.'");
        }
    }

    /// <summary>
    /// Fills in the firmware of a boot that named none, making the VM's varstore on first use,
    /// and says on stderr what was chosen. Options that name firmware come back unchanged.
    /// </summary>
    public static BootOptions Resolve(BootOptions o, FirmwareSearch search, ILogger log)
    {
        if (o.Code != null || o.Firmware != null || o.Bios != null)
        {
            return o;
        }

        var (chosen, entries) = Choose(search);
        foreach (var e in entries.Where(e => !e.Usable))
        {
            log.Log(e.Malformed ? LogLevel.Warning : LogLevel.Debug, "firmware descriptor {Path} skipped: {Reason}", e.Path, e.Skipped);
        }

        if (chosen == null)
        {
            throw new UsageException(NotFound(search, entries));
        }

        string vm = o.Vm ?? DefaultVm;
        string? varstore = null;
        bool created = false;
        if (chosen.Template != null)
        {
            varstore = VarstorePath(search, vm);
            created = o.Snapshot ? false : EnsureCopy(chosen.Template, varstore);
            if (o.Snapshot && !File.Exists(varstore))
            {
                // --snapshot writes nothing, the VM's state directory included: the template itself, read only.
                varstore = chosen.Template;
            }
        }

        log.LogInformation(
            "firmware {Code} ({Source}), {Varstore}", chosen.Executable, chosen.Source,
            varstore == null ? "no varstore (stateless: variables last for the run)"
                : $"varstore {varstore}{(created ? $" (new copy of {chosen.Template})" : varstore == chosen.Template ? " (the template: --snapshot)" : string.Empty)}");
        var resolved = o with
        {
            Code = chosen.Mode == FlashMode.Combined ? null : chosen.Executable,
            Vars = chosen.Mode == FlashMode.Split ? varstore : null,
            Firmware = chosen.Mode == FlashMode.Combined ? varstore : null,
            FirmwareChoice = new FirmwareChoiceInfo(
                chosen.Descriptor != null ? "descriptor" : "fixtures", chosen.Descriptor, chosen.Mode.ToString().ToLowerInvariant(),
                chosen.Executable, chosen.Template, vm, varstore, created),
        };
        resolved.CheckOutputs();
        return resolved;
    }

    /// <summary>
    /// Makes the VM's copy of <paramref name="template"/> unless it exists (true when made): a
    /// temporary file, fsync'ed, renamed into place (<see cref="VarsFiles.WriteNew"/>), so a crash
    /// leaves no half copy. An existing copy must have the template's size: one of another build's
    /// layout is refused here in one line (the boot's CODE/VARS check judges the rest).
    /// </summary>
    public static bool EnsureCopy(string template, string copy)
    {
        long templateSize = InputFile.Check(InputRole.Flash("nvram template"), template);
        if (File.Exists(copy) || Directory.Exists(copy))
        {
            long size = InputFile.Check(InputRole.Flash("vars"), copy);
            return size == templateSize ? false : throw new UsageException(
                $"varstore '{copy}' is {size} bytes but this firmware's template '{template}' is {templateSize}: it belongs to another build; "
                + $"use another --vm, or 'emu vars convert --from {copy} --template {template} -o NEW.fd' and move NEW.fd there");
        }

        try
        {
            // The XDG base directory spec: a missing directory is made with mode 0700.
            string dir = Path.GetDirectoryName(Path.GetFullPath(copy))!;
            _ = OperatingSystem.IsWindows() ? Directory.CreateDirectory(dir) : Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot create the varstore directory for '{copy}': {e.Message}");
        }

        try
        {
            VarsFiles.WriteNew(copy, InputFile.Read(InputRole.Flash("nvram template"), template), force: false);
            return true;
        }
        catch (UsageException) when (File.Exists(copy))
        {
            // Another emu made the copy first: use theirs, as a later boot would.
            return EnsureCopy(template, copy);
        }
    }

    /// <summary>The one line when nothing was found: where emu looked and the two ways out.</summary>
    private static string NotFound(FirmwareSearch search, IReadOnlyList<DescriptorEntry> entries) =>
        $"no firmware found: no usable UEFI descriptor for {FirmwareDescriptors.Architecture} {FirmwareDescriptors.MachineType} in "
        + string.Join(", ", search.DescriptorDirectories)
        + (entries.Count > 0 ? $" ({entries.Count} skipped: 'emu firmware list' says why)" : string.Empty)
        + " and no fetched fixtures; install OVMF (apt-get install ovmf) or pass --code FILE [--vars FILE]";

    [GeneratedRegex("^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,63}$")]
    private static partial Regex VmName();
}
