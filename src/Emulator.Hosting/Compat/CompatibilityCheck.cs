using Emulator.Firmware;
using Emulator.Firmware.Varstore;

namespace Emulator.Hosting.Compat;

/// <summary>The CODE/VARS check shared by <c>compat</c> and <c>boot</c>, and its plain-words report.</summary>
public static class CompatibilityCheck
{
    /// <summary>
    /// The verdict, or null when there is nothing to judge: the code image carries no varstore
    /// template (not an OVMF build, e.g. a test ROM) or is a unified image with its varstore inside.
    /// </summary>
    public static VarstoreCompatibility.Verdict? Evaluate(FirmwareImage code, byte[] vars) =>
        !IsUnified(code) && VarstoreExpectation.FromCode(code) is { } expected ? VarstoreCompatibility.Check(expected, vars) : null;

    /// <summary>A unified OVMF.fd starts with its own variable store volume.</summary>
    public static bool IsUnified(FirmwareImage code) =>
        code.Volumes.Count > 0 && code.Volumes[0].ImageOffset == 0 && code.Volumes[0].FileSystemGuid == FirmwareGuids.SystemNvDataFv;

    /// <summary>The verdict <paramref name="v"/> as lines for a person, naming <paramref name="codePath"/> and <paramref name="varsPath"/>.</summary>
    public static IEnumerable<string> Describe(VarstoreCompatibility.Verdict v, string codePath, string varsPath)
    {
        var e = v.Expected;
        yield return $"{(v.Compatible ? "compatible" : "INCOMPATIBLE")}: {Path.GetFileName(codePath)} ({Size(e.CodeLength)} at 0x{e.CodeBase:X8}) expects a {Size(e.VarsSize)} varstore at 0x{e.Base:X8}; "
            + $"{Path.GetFileName(varsPath)} ({Size(v.Vars.Bytes.Length)}) is mapped at 0x{v.MappedBase:X8}";
        yield return $"  how this is known: the FV header template in {e.Source} (FvLength 0x{e.VarsSize:X}); "
            + (e.BaseConfirmed ? $"its code also holds the base 0x{e.Base:X8}" : "the base constant was not found in its code (derived from the layout)");
        foreach (string finding in v.Findings)
        {
            yield return "  - " + finding;
        }

        if (!v.Compatible)
        {
            yield return $"  fix: emu vars convert --from {varsPath} --template <an empty {Size(e.VarsSize)} OVMF_VARS file of this build> -o NEW.fd";
        }
    }

    private static string Size(long bytes) => bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} bytes";
}
