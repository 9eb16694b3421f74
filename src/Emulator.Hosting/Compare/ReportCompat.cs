using System.Security.Cryptography;
using Emulator.Firmware;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Compat;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Compare;

/// <summary>
/// The CODE/VARS verdict for two reports (the live-migration question: would the baseline's
/// varstore work with the candidate's code?), from the files the reports name, when they are still
/// there: the candidate's code must be the very file its report hashed; the baseline's varstore is
/// read as it is now (a run changes its variables, never its layout). Otherwise no verdict, and why.
/// </summary>
internal static class ReportCompat
{
    public static CompatChange? Verdict(RunReport baseline, RunReport candidate, out string? notChecked)
    {
        var code = candidate.Firmware.FirstOrDefault(f => f.Role == "code");
        var vars = baseline.Firmware.FirstOrDefault(f => f.Role == "vars");
        if (code == null || vars == null)
        {
            notChecked = code == null ? "the candidate ran no separate CODE image" : "the baseline ran no VARS file";
            return null;
        }

        byte[] codeBytes, varsBytes;
        try
        {
            // The pair boot would be given: the same size and layout verdict first.
            FirmwareFiles.CheckLayout([("candidate code", code.Path), ("baseline vars", vars.Path)]);
            codeBytes = InputFile.Read(InputRole.Flash("candidate code"), code.Path);
            varsBytes = InputFile.Read(InputRole.Flash("baseline vars"), vars.Path);
        }
        catch (UsageException e)
        {
            notChecked = $"the files the reports name cannot be used now ({e.Message})";
            return null;
        }

        if (!Convert.ToHexStringLower(SHA256.HashData(codeBytes)).Equals(code.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            notChecked = $"{code.Path} is no longer the code the candidate's report names (SHA-256 differs)";
            return null;
        }

        notChecked = null;
        return Verdict(code.Path, codeBytes, varsBytes, vars.Path) ?? NotFirmware(out notChecked);
    }

    /// <summary>The compat check of the baseline's varstore against the candidate's code (null when the code is no firmware image).</summary>
    public static CompatChange? Verdict(string candidateCode, byte[] candidateCodeBytes, byte[] baselineVars, string baselineVarsName)
    {
        FirmwareImage image;
        try
        {
            image = Caching.CachedFirmware.Parse(candidateCodeBytes);
        }
        catch (FirmwareFormatException)
        {
            return null;
        }

        return CompatibilityCheck.Evaluate(image, baselineVars) is { } v
            ? new CompatChange(v.Compatible, CompatibilityCheck.Describe(v, candidateCode, baselineVarsName).ToList())
            : null;
    }

    private static CompatChange? NotFirmware(out string? why)
    {
        why = "the candidate's code is no UEFI firmware image";
        return null;
    }
}
