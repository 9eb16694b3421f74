namespace Emulator.Firmware;

/// <summary>A parsed flash image: its firmware volumes (with nested content) and executable modules.</summary>
public sealed class FirmwareImage
{
    private FirmwareImage(int length, IReadOnlyList<FirmwareVolume> volumes, IReadOnlyList<string> diagnostics)
    {
        Length = length;
        Volumes = volumes;
        Diagnostics = diagnostics;
        Modules = CollectModules(volumes);
    }

    /// <summary>Image size in bytes.</summary>
    public int Length { get; }

    /// <summary>Top-level volumes in flash order.</summary>
    public IReadOnlyList<FirmwareVolume> Volumes { get; }

    /// <summary>Every file with a PE32 or TE image, from all volumes including nested ones.</summary>
    public IReadOnlyList<FirmwareModule> Modules { get; }

    /// <summary>Problems that were tolerated while parsing (skipped or undecoded structures).</summary>
    public IReadOnlyList<string> Diagnostics { get; }

    /// <summary>Parses an image without copying it; the model's Data slices refer to <paramref name="image"/>.</summary>
    /// <exception cref="FirmwareFormatException">No firmware volume was found.</exception>
    public static FirmwareImage Parse(byte[] image) => Parse(image, cache: null);

    /// <summary>As <see cref="Parse(byte[])"/>, taking compressed sections' output from <paramref name="cache"/> when it has them and leaving them there.</summary>
    public static FirmwareImage Parse(byte[] image, IInflatedSectionCache? cache)
    {
        ArgumentNullException.ThrowIfNull(image);
        var context = new ParseContext(cache);
        List<FirmwareVolume> volumes = VolumeParser.FindVolumes(image, 0, context);
        if (volumes.Count == 0)
        {
            throw new FirmwareFormatException($"no firmware volume (_FVH) in {image.Length}-byte image", 0);
        }

        return new FirmwareImage(image.Length, volumes, context.Diagnostics);
    }

    /// <inheritdoc cref="Parse(byte[])"/>
    public static FirmwareImage Parse(ReadOnlySpan<byte> image) => Parse(image.ToArray());

    /// <summary>All volumes, top-level and nested, depth first.</summary>
    public IEnumerable<FirmwareVolume> EnumerateVolumes()
    {
        foreach (FirmwareVolume volume in Volumes)
        {
            foreach (FirmwareVolume nested in SelfAndNested(volume))
            {
                yield return nested;
            }
        }
    }

    private static IEnumerable<FirmwareVolume> SelfAndNested(FirmwareVolume volume)
    {
        yield return volume;
        foreach (FfsFile file in volume.Files)
        {
            foreach (FirmwareSection top in file.Sections)
            {
                foreach (FirmwareSection section in top.SelfAndDescendants())
                {
                    if (section.Volume is null)
                    {
                        continue;
                    }

                    foreach (FirmwareVolume nested in SelfAndNested(section.Volume))
                    {
                        yield return nested;
                    }
                }
            }
        }
    }

    private static List<FirmwareModule> CollectModules(IReadOnlyList<FirmwareVolume> volumes)
    {
        var modules = new List<FirmwareModule>();
        foreach (FirmwareVolume top in volumes)
        {
            foreach (FirmwareVolume volume in SelfAndNested(top))
            {
                foreach (FfsFile file in volume.Files)
                {
                    if ((file.State & (FfsFileState.Deleted | FfsFileState.HeaderInvalid)) != 0)
                    {
                        continue;
                    }

                    FirmwareSection? imageSection = null;
                    string? name = null;
                    foreach (FirmwareSection section in file.Sections.SelectMany(s => s.SelfAndDescendants()))
                    {
                        if (imageSection is null && section.Image is not null)
                        {
                            imageSection = section;
                        }

                        if (name is null && section.Type == FirmwareSectionType.UserInterface)
                        {
                            name = section.Text;
                        }
                    }

                    if (imageSection?.Image is { } image)
                    {
                        modules.Add(new FirmwareModule(file, imageSection, image, volume, name));
                    }
                }
            }
        }

        return modules;
    }
}
