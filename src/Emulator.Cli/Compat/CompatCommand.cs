using System.Text.Json;
using System.Text;
using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Vars;
using Emulator.Firmware;
using Emulator.Hosting.Compat;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;

namespace Emulator.Cli.Compat;

/// <summary>
/// <c>compat --code C --vars V [--json]</c>: will this varstore work with this code build?
/// Exit status 0 compatible, 1 not, 2 bad input (including a code image that is not OVMF).
/// </summary>
public sealed class CompatCommand(Stream stdout)
{
    public int Run(ParsedArguments a)
    {
        string codePath = a.Get("--code") ?? throw new UsageException("compat needs --code FILE");
        string varsPath = a.Get("--vars") ?? throw new UsageException("compat needs --vars FILE");
        // The same size and layout verdict boot gives the pair (QEMU's rules), before a byte is read.
        FirmwareFiles.CheckLayout([("code", codePath), ("vars", varsPath)]);
        byte[] code = FirmwareFiles.Load(InputRole.Flash("code"), codePath).Bytes;
        byte[] vars = FirmwareFiles.Load(InputRole.Flash("vars"), varsPath).Bytes;
        FirmwareImage image;
        try
        {
            image = Emulator.Hosting.Caching.CachedFirmware.Parse(code);
        }
        catch (FirmwareFormatException e)
        {
            throw new UsageException($"code file '{codePath}' is not a UEFI firmware image: {e.Message}");
        }

        if (CompatibilityCheck.IsUnified(image))
        {
            throw new UsageException($"code file '{codePath}' is a unified image with its own varstore inside: check that with 'emu vars check'");
        }

        var verdict = CompatibilityCheck.Evaluate(image, vars)
            ?? throw new UsageException($"code file '{codePath}' carries no varstore template (FvbServicesRuntimeDxe): not an OVMF build, cannot tell");
        using var output = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 12, leaveOpen: true);
        if (a.Has("--json"))
        {
            var e = verdict.Expected;
            output.WriteLine(JsonSerializer.Serialize(
                new
                {
                    verdict.Compatible,
                    Expected = new { Base = Hex.Format(e.Base), Size = e.VarsSize, e.StoreSize, e.Source, e.BaseConfirmed, CodeBase = Hex.Format(e.CodeBase) },
                    Vars = new { Path = varsPath, Size = vars.Length, MappedAt = Hex.Format(verdict.MappedBase) },
                    verdict.Findings,
                },
                VarsCommand.Json));
        }
        else
        {
            foreach (string line in CompatibilityCheck.Describe(verdict, codePath, varsPath))
            {
                output.WriteLine(line);
            }
        }

        return verdict.Compatible ? 0 : 1;
    }
}
