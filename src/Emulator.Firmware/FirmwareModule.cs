namespace Emulator.Firmware;

/// <summary>An executable FFS file: its PE32 or TE image and where it came from.</summary>
public sealed class FirmwareModule
{
    internal FirmwareModule(FfsFile file, FirmwareSection imageSection, PeImageInfo image, FirmwareVolume volume, string? name)
    {
        File = file;
        ImageSection = imageSection;
        Image = image;
        Volume = volume;
        Name = name;
    }

    public FfsFile File { get; }

    public Guid FileGuid => File.Name;

    public FfsFileType Type => File.Type;

    /// <summary>The USER_INTERFACE section string (the INF BASE_NAME in EDK II builds), if any.</summary>
    public string? Name { get; }

    /// <summary>The PE32 or TE section holding the image.</summary>
    public FirmwareSection ImageSection { get; }

    public PeImageInfo Image { get; }

    /// <summary>The volume that holds <see cref="File"/>.</summary>
    public FirmwareVolume Volume { get; }

    /// <summary>ImageBase + AddressOfEntryPoint: where execution starts if the image runs where it was linked.</summary>
    public ulong EntryAddress => Image.EntryAddress;

    public ulong ImageStart => Image.ImageBase;

    public ulong ImageEnd => Image.ImageBase + Image.SizeOfImage;

    public override string ToString() =>
        $"{Name ?? FileGuid.ToString()} {Type} {Image.Format}/{Image.Machine} entry 0x{EntryAddress:X}";
}
