using System.Security.Cryptography;
using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Inputs;
using Emulator.Cli.Reporting;

namespace Emulator.Cli.Compare;

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
        return SideBySideRuns.Verdict(code.Path, codeBytes, varsBytes, vars.Path) ?? NotFirmware(out notChecked);
    }

    private static CompatChange? NotFirmware(out string? why)
    {
        why = "the candidate's code is no UEFI firmware image";
        return null;
    }
}
