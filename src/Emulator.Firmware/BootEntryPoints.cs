namespace Emulator.Firmware;

/// <summary>
/// The addresses an emulator needs to follow a boot: the SEC entry in flash, the PEI core entry
/// and the DXE core entry, all derived from the image rather than hard-coded.
/// </summary>
public sealed record BootEntryPoints
{
    private const ulong AddressSpaceTop = 1UL << 32;

    /// <summary>Physical address of the image's first byte: the image ends at 0xFFFFFFFF.</summary>
    public ulong MappedBase { get; init; }

    public ulong? SecEntry { get; init; }

    public PeMachine? SecMachine { get; init; }

    public bool? Is64BitSec => SecMachine is { } machine ? machine == PeMachine.Amd64 : null;

    public FirmwareModule? Sec { get; init; }

    /// <summary>ImageBase + AddressOfEntryPoint of the PEI core; PEI images are rebased at build time to where they run.</summary>
    public ulong? PeiCoreEntry { get; init; }

    public PeMachine? PeiCoreMachine { get; init; }

    public FirmwareModule? PeiCore { get; init; }

    /// <summary>
    /// ImageBase + AddressOfEntryPoint of the DXE core when it is linked at a real address. DXE IPL
    /// loads the DXE core wherever it allocates memory, so builds that leave ImageBase at 0 (OVMF)
    /// give null here; <see cref="DxeCore"/> still describes the image.
    /// </summary>
    public ulong? DxeCoreEntry { get; init; }

    public PeMachine? DxeCoreMachine { get; init; }

    public FirmwareModule? DxeCore { get; init; }

    public IReadOnlyList<string> Diagnostics { get; init; } = [];

    /// <summary>The parsed image the entry points were found in (its volumes decompressed once, for every later use).</summary>
    public required FirmwareImage Firmware { get; init; }

    /// <summary>Finds the boot milestones in a flash image that is mapped to end at 4 GiB.</summary>
    /// <exception cref="FirmwareFormatException">The bytes hold no firmware volume at all.</exception>
    public static BootEntryPoints Locate(byte[] codeImage) => Locate(codeImage, parsed: null);

    /// <summary>As <see cref="Locate(byte[])"/>, reusing <paramref name="parsed"/> (the same bytes already parsed) when given.</summary>
    public static BootEntryPoints Locate(byte[] codeImage, FirmwareImage? parsed)
    {
        ArgumentNullException.ThrowIfNull(codeImage);
        if ((ulong)codeImage.Length > AddressSpaceTop)
        {
            throw new FirmwareFormatException($"image of {codeImage.Length} bytes cannot be mapped below 4 GiB", 0);
        }

        FirmwareImage firmware = parsed ?? FirmwareImage.Parse(codeImage);
        var diagnostics = new List<string>(firmware.Diagnostics);
        ulong mappedBase = AddressSpaceTop - (ulong)codeImage.Length;

        (FirmwareModule? sec, ulong? secEntry) = LocateSec(firmware, mappedBase, diagnostics);
        FirmwareModule? peiCore = FindSingle(firmware, FfsFileType.PeiCore, diagnostics);
        FirmwareModule? dxeCore = FindSingle(firmware, FfsFileType.DxeCore, diagnostics);
        if (dxeCore?.Image.ImageBase == 0)
        {
            diagnostics.Add($"DXE core is linked at 0 (entry RVA 0x{dxeCore.Image.AddressOfEntryPoint:X}); DXE IPL picks its load address at run time");
        }

        return new BootEntryPoints
        {
            Firmware = firmware,
            MappedBase = mappedBase,
            Sec = sec,
            SecEntry = secEntry,
            SecMachine = sec?.Image.Machine,
            PeiCore = peiCore,
            PeiCoreEntry = peiCore?.EntryAddress,
            PeiCoreMachine = peiCore?.Image.Machine,
            DxeCore = dxeCore,
            DxeCoreEntry = dxeCore?.Image.ImageBase > 0 ? dxeCore.EntryAddress : null,
            DxeCoreMachine = dxeCore?.Image.Machine,
            Diagnostics = diagnostics,
        };
    }

    private static (FirmwareModule? Module, ulong? Entry) LocateSec(FirmwareImage firmware, ulong mappedBase, List<string> diagnostics)
    {
        // The reset vector lives at the top of the boot firmware volume, which therefore ends
        // exactly at the end of the image (PI spec Vol 3, 2.1.1 and the VTF file).
        FirmwareVolume? bootVolume = firmware.Volumes.FirstOrDefault(v => v.ImageOffset + v.Length == firmware.Length);
        if (bootVolume is null)
        {
            diagnostics.Add("no firmware volume ends at the end of the image, so there is no boot firmware volume");
            return (null, null);
        }

        FirmwareModule? sec = firmware.Modules.FirstOrDefault(m => m.Volume == bootVolume && m.Type == FfsFileType.SecurityCore);
        if (sec is null)
        {
            diagnostics.Add($"boot firmware volume at 0x{bootVolume.Offset:X} has no SECURITY_CORE image");
            return (null, null);
        }

        // SEC executes in place, so the header's linked address must equal where flash puts it.
        if (sec.ImageSection.ImageOffset is not { } sectionOffset)
        {
            diagnostics.Add("SEC image has no flash location; using its linked entry point");
            return (sec, sec.EntryAddress);
        }

        ulong mappedHeader = mappedBase + (ulong)sectionOffset + (ulong)sec.ImageSection.HeaderLength;
        if (mappedHeader == sec.Image.HeaderAddress)
        {
            return (sec, sec.EntryAddress);
        }

        ulong entry = sec.Image.EntryAddressWhenHeaderAt(mappedHeader);
        diagnostics.Add($"SEC header is linked for 0x{sec.Image.HeaderAddress:X} but mapped at 0x{mappedHeader:X}; using entry 0x{entry:X}");
        return (sec, entry);
    }

    private static FirmwareModule? FindSingle(FirmwareImage firmware, FfsFileType type, List<string> diagnostics)
    {
        List<FirmwareModule> found = firmware.Modules.Where(m => m.Type == type).ToList();
        if (found.Count == 0)
        {
            diagnostics.Add($"no {type} image found");
            return null;
        }

        if (found.Count > 1)
        {
            diagnostics.Add($"{found.Count} {type} images found; using the first, {found[0]}");
        }

        return found[0];
    }
}
