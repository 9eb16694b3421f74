namespace Emulator.Firmware.Varstore;

/// <summary>
/// Judges a CODE/VARS pair before it runs: where QEMU (and this emulator) will map the VARS file
/// — directly below the code, at 4 GiB − code size − vars size — against where the code looks
/// for it, and what the firmware will then do, in plain words. The consequences are the ones
/// observed on QEMU with Debian's builds (docs/qemu-pflash.md, "The migration problem").
/// </summary>
public static class VarstoreCompatibility
{
    public sealed record Verdict(bool Compatible, IReadOnlyList<string> Findings, VarstoreExpectation Expected, ulong MappedBase, VarstoreImage Vars);

    public static Verdict Check(VarstoreExpectation expected, ReadOnlyMemory<byte> vars)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var image = VarstoreImage.Parse(vars);
        ulong mapped = expected.CodeBase - (ulong)vars.Length;
        string want = $"this code expects a {Size(expected.VarsSize)} varstore at 0x{expected.Base:X8}";
        var findings = new List<string>();
        if (vars.Length < expected.VarsSize)
        {
            findings.Add($"{want}; this {Size(vars.Length)} file would be mapped at 0x{mapped:X8}: the firmware will not find it "
                + $"(it probes unmapped space below the file) and decides there is no flash: {NoFlash(expected)}");
        }
        else if (vars.Length > expected.VarsSize)
        {
            long offset = vars.Length - expected.VarsSize;
            findings.Add($"{want}; this {Size(vars.Length)} file would be mapped at 0x{mapped:X8}, so the firmware reads its store 0x{offset:X} bytes into the file ({Region(image, offset)}): "
                + "it finds no valid varstore header there, erases and rewrites that part of the file, and the boot fails (on QEMU it crashes on every boot)");
        }
        else
        {
            JudgeSameSize(expected, image, want, findings);
        }

        if (findings.Count == 0)
        {
            int live = image.LiveVariables.Count();
            findings.Add($"compatible: {want}, and this {Size(vars.Length)} store is mapped exactly there; {live} live variable{(live == 1 ? string.Empty : "s")}, {image.FreeBytes} bytes free");
            findings.AddRange(image.Issues.Select(i => $"{(i.Class == VarstoreIssueClass.Repair ? "the firmware will repair" : "note")}: {i}"));
            if (expected.Smm)
            {
                findings.Add("an SMM build: its variable driver runs in System Management Mode and writes this store only from SMM, so it needs the q35 machine with SMM "
                    + "(emu boot --machine q35 --secure-flash; QEMU -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on)");
            }

            return new Verdict(true, findings, expected, mapped, image);
        }

        findings.AddRange(image.Errors.Select(e => "the file: " + e));
        return new Verdict(false, findings, expected, mapped, image);
    }

    // The block map is not compared with the template's: the parser judges it as the FVB driver
    // does (block length, coverage of FvLength), and a map that merely differs from the template's
    // boots (observed on emu and QEMU 7.2 with a map covering more than FvLength).
    private static void JudgeSameSize(VarstoreExpectation expected, VarstoreImage image, string want, List<string> findings)
    {
        ReadOnlySpan<byte> bytes = image.Bytes.Span;
        if (bytes.IndexOfAnyExcept((byte)0) < 0)
        {
            findings.Add($"{want}, mapped at the right place, but every byte is 0x00: QemuFlashFvbServicesRuntimeDxe finds no byte to probe the chip with "
                + $"and treats the flash as absent: {NoFlash(expected)}");
        }
        else if (bytes.IndexOfAnyExcept((byte)0xFF) < 0)
        {
            findings.Add($"{want}, mapped at the right place, but it is blank (all 0xFF): the firmware formats a new, empty store into the file at the first boot; "
                + "it boots, without any of the variables you may expect");
        }
        else if (image.FileSystemGuid == FirmwareGuids.SystemNvDataFv && image.FvLength != expected.VarsSize)
        {
            findings.Add($"{want}; the file has that size but the volume inside is {Size(image.FvLength)} (FvLength, a padded or truncated store): "
                + "the firmware rejects the header and erases the whole store, every variable is lost");
        }
        else if (!image.IsValid)
        {
            findings.Add($"{want}, mapped at the right place, but {(image.IsUsable ? "the firmware will reject it" : "it is not an OVMF variable store")} ({image.Errors.FirstOrDefault()}): it erases a volume whose FV header it refuses "
                + "and stops at a CPU exception when its variable driver finds no usable store; every variable is lost");
        }
        else if (expected.StoreSize is int size && image.StoreSize != size)
        {
            findings.Add($"{want} whose variable store is 0x{size:X} bytes, this one's is 0x{image.StoreSize:X}: a different layout of the same size; "
                + "the firmware's fault-tolerant writes would land in the wrong places");
        }
    }

    /// <summary>
    /// What a build does without flash. A non-SMM build keeps its variables in the RAM store
    /// PlatformPei reserved; an SMM build reserves none (PlatformPei InitializePlatform), its
    /// FvbServicesSmm unloads ("QEMU flash was not detected") and DXE stops at a CPU exception
    /// (observed on QEMU 7.2 and emu: #UD, Debian's 4 MB secboot CODE with the 2 MB .ms VARS).
    /// </summary>
    private static string NoFlash(VarstoreExpectation expected) => expected.Smm
        ? "this SMM build has no variable store in RAM to fall back on, so its variable driver never starts and the boot stops at a CPU exception (#UD) in DXE"
        : "it keeps variables in RAM, and every variable change will be lost at power-off";

    private static string Region(VarstoreImage image, long offset)
    {
        if (!image.IsUsable)
        {
            return "which is not a varstore at all";
        }

        if (image.Ftw is { SpareLength: > 0 } ftw && offset >= ftw.SpareOffset)
        {
            return "inside its fault-tolerant-write spare area";
        }

        return offset < image.StoreEnd ? "in the middle of its variable records" : "inside its fault-tolerant-write working area";
    }

    private static string Size(long bytes) => bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes}-byte";
}
