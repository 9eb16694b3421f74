using System.Text.Json;
using Emulator.Hosting.Inspect;
using Emulator.Cli.Vars;
using Emulator.Firmware;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>The firmware parsers as fuzz targets: what each does with one input, and what it may throw.</summary>
internal static class FirmwareTargets
{
    /// <summary>
    /// The LZMA budget of one parse (ParseContext: 128 MiB decoded in all) plus the decoder's window
    /// and the model: a mutated 4 MiB image inflates ~13 MiB, so this is a bound on blowups, not a
    /// budget real images come near.
    /// </summary>
    public const long ImageAllocationLimit = 320L << 20;

    /// <summary><see cref="FirmwareFormatException"/> is the firmware library's one documented answer to bad bytes.</summary>
    public static bool IsDocumented(Exception e) => e is FirmwareFormatException;

    /// <summary>
    /// Parse, locate the boot milestones, touch everything the model exposes, and build what
    /// <c>inspect --json</c> prints (which parses a unified image's variable store too).
    /// </summary>
    public static void LocateAndWalk(byte[] bytes)
    {
        BootEntryPoints entries = BootEntryPoints.Locate(bytes);
        FirmwareImage image = entries.Firmware;
        _ = entries.ToString();
        foreach (FirmwareVolume volume in image.EnumerateVolumes())
        {
            _ = volume.ToString();
            foreach (FfsFile file in volume.Files)
            {
                _ = file.ToString();
                foreach (FirmwareSection section in file.Sections.SelectMany(s => s.SelfAndDescendants()))
                {
                    _ = section.ToString();
                }
            }
        }

        foreach (FirmwareModule module in image.Modules)
        {
            _ = module.ToString();
            _ = module.ImageEnd;
        }

        _ = JsonSerializer.Serialize(InspectModel.Build("fuzz.fd", bytes, image), VarsCommand.Json);
    }
}
