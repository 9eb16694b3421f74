using Emulator.Firmware;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Boot;

/// <summary>
/// A boot session's code image, parsed once (through the inflated-section cache,
/// <see cref="Caching.CachedFirmware"/>) for everything that reads it before the run: the
/// CODE/VARS check, the address milestones (<c>sec</c>, <c>pei</c>) and the module recognizer's
/// modules.
/// </summary>
internal sealed class CodeImage(ILogger log)
{
    private readonly ILogger _log = log;
    private byte[]? _bytes;
    private FirmwareImage? _parsed;

    /// <summary>The address milestones, and the image's modules from the same parse (decompressing the volumes is ~0.15 s).</summary>
    public Dictionary<string, ulong> LocateMilestones(byte[] code, string? until, out IReadOnlyList<FirmwareModule> modules)
    {
        var result = new Dictionary<string, ulong>();
        modules = [];
        try
        {
            // One parse per run (the pair check's, when there was one): decompressing the volumes is the cost.
            var entries = BootEntryPoints.Locate(code, Parse(code));
            modules = entries.Firmware.Modules;
            if (entries.SecEntry is ulong sec)
            {
                result[MilestoneTracker.Sec] = sec;
            }

            if (entries.PeiCoreEntry is ulong pei)
            {
                result[MilestoneTracker.Pei] = pei;
            }

            foreach (var d in entries.Diagnostics)
            {
                _log.LogDebug("firmware: {Diagnostic}", d);
            }
        }
        catch (FirmwareFormatException e)
        {
            if (until is MilestoneTracker.Sec or MilestoneTracker.Pei)
            {
                throw new UsageException($"milestone '{until}' cannot be located: the code image is not a UEFI firmware image ({e.Message})");
            }

            _log.LogWarning("the code image is not a UEFI firmware image ({Reason}): no sec/pei milestones", e.Message);
            modules = Parse(code)?.Modules ?? [];
        }

        if (until is MilestoneTracker.Sec or MilestoneTracker.Pei && !result.ContainsKey(until))
        {
            throw new UsageException($"milestone '{until}' cannot be located in this image (no {(until == MilestoneTracker.Sec ? "SECURITY_CORE" : "PEI_CORE")} entry found)");
        }

        return result;
    }

    /// <summary>The code image parsed once per run (it inflates ~13 MiB of LZMA); null when it is not a UEFI image.</summary>
    public FirmwareImage? Parse(byte[] code)
    {
        if (!ReferenceEquals(code, _bytes))
        {
            _bytes = code;
            try
            {
                _parsed = Caching.CachedFirmware.Parse(code);
            }
            catch (FirmwareFormatException)
            {
                _parsed = null;
            }
        }

        return _parsed;
    }
}
