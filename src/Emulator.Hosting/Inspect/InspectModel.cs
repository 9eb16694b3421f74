using Emulator.Hosting.Reporting;
using Emulator.Firmware;
using Emulator.Firmware.Varstore;

namespace Emulator.Hosting.Inspect;

/// <summary>What <c>inspect</c> shows, as plain records: one model printed as a tree or serialised as JSON.</summary>
internal sealed record ImageNode(string File, long Size, IReadOnlyList<VolumeNode> Volumes, int Modules, IReadOnlyList<string> Diagnostics);

internal sealed record VolumeNode(
    string Offset, string? ImageOffset, string FileSystem, Guid FileSystemGuid, Guid? Name, long Size, string Attributes,
    int HeaderLength, bool HeaderChecksumValid, IReadOnlyList<string> BlockMap, VarstoreNode? Varstore, IReadOnlyList<FileNode> Files);

internal sealed record VarstoreNode(string Format, string StoreSize, int LiveVariables, int Records, int FreeBytes, bool Valid, IReadOnlyList<string> Problems);

internal sealed record FileNode(Guid Guid, string Type, string? Name, long Size, string State, string Offset, IReadOnlyList<SectionNode> Sections);

internal sealed record SectionNode(
    string Type, int Size, Guid? Guid, string? Decoder, bool Decoded, string? Text, ImageInfoNode? Image, VolumeNode? Volume, IReadOnlyList<SectionNode> Children);

internal sealed record ImageInfoNode(string Format, string Machine, string ImageBase, string Entry, string SizeOfImage, int Sections);

/// <summary>Builds the model from a parsed image.</summary>
internal static class InspectModel
{
    public static ImageNode Build(string path, byte[] bytes, FirmwareImage image) =>
        new(path, bytes.Length, image.Volumes.Select(v => Volume(v, bytes)).ToList(), image.Modules.Count, image.Diagnostics);

    private static VolumeNode Volume(FirmwareVolume v, byte[]? top) => new(
        Hex.Format((ulong)v.Offset),
        v.ImageOffset is long at ? Hex.Format((ulong)at) : null,
        FileSystemName(v.FileSystemGuid),
        v.FileSystemGuid,
        v.Name,
        v.Length,
        "0x" + v.Attributes.ToString("X8"),
        v.HeaderLength,
        v.ChecksumValid,
        v.BlockMap.Select(b => $"{b.NumBlocks}x0x{b.BlockLength:X}").ToList(),
        v.FileSystemGuid == FirmwareGuids.SystemNvDataFv && top != null && v.ImageOffset is long offset ? Varstore(top.AsMemory((int)offset)) : null,
        v.Files.Select(File).ToList());

    private static VarstoreNode Varstore(ReadOnlyMemory<byte> bytes)
    {
        var store = VarstoreImage.Parse(bytes);
        return new VarstoreNode(
            store.IsUsable ? store.IsAuthenticated ? "authenticated" : "plain" : "unreadable",
            "0x" + store.StoreSize.ToString("X"),
            store.LiveVariables.Count(),
            store.Records.Count,
            store.FreeBytes,
            store.IsValid,
            store.Errors.Concat(store.Warnings).ToList());
    }

    private static FileNode File(FfsFile f)
    {
        string? name = f.Sections.SelectMany(s => s.SelfAndDescendants()).FirstOrDefault(s => s.Type == FirmwareSectionType.UserInterface)?.Text;
        return new FileNode(f.Name, Named(f.Type), name, f.Size, StateName(f.State), Hex.Format((ulong)f.Offset), f.Sections.Select(Section).ToList());
    }

    private static SectionNode Section(FirmwareSection s) => new(
        Named(s.Type),
        s.Size,
        s.SectionGuid,
        s.Type == FirmwareSectionType.GuidDefined ? s.SectionGuid == FirmwareGuids.LzmaCustomDecompress ? "LZMA" : "unknown" : s.Type == FirmwareSectionType.Compression ? "EFI/Tiano" : null,
        s.IsDecoded,
        s.Text,
        s.Image is { } pe ? new ImageInfoNode(
            pe.Format.ToString(), Named(pe.Machine), Hex.Format(pe.ImageBase), Hex.Format(pe.EntryAddress), "0x" + pe.SizeOfImage.ToString("X"), pe.NumberOfSections) : null,
        s.Volume is { } nested ? Volume(nested, null) : null,
        s.Children.Select(Section).ToList());

    /// <summary>The furthest state the file reached (PI spec Vol 3, 3.2.3.1: states are set in order).</summary>
    private static string StateName(FfsFileState state) =>
        (state & FfsFileState.HeaderInvalid) != 0 ? "header-invalid"
        : (state & FfsFileState.Deleted) != 0 ? "deleted"
        : (state & FfsFileState.MarkedForUpdate) != 0 ? "marked-for-update"
        : (state & FfsFileState.DataValid) != 0 ? "valid"
        : (state & FfsFileState.HeaderValid) != 0 ? "header-valid"
        : "under-construction";

    private static string FileSystemName(Guid guid) =>
        guid == FirmwareGuids.FirmwareFileSystem2 ? "FFS2"
        : guid == FirmwareGuids.FirmwareFileSystem3 ? "FFS3"
        : guid == FirmwareGuids.SystemNvDataFv ? "NvData (variable store)"
        : guid.ToString();

    private static string Named<T>(T value)
        where T : struct, Enum =>
        Enum.IsDefined(value) ? value.ToString() : "0x" + Convert.ToUInt64(value, System.Globalization.CultureInfo.InvariantCulture).ToString("X2");
}
