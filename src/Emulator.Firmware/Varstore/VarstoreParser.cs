using System.Buffers.Binary;
using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Reads a varstore and judges it the way OVMF's drivers do at boot, in their order:
/// QemuFlashFvbServicesRuntimeDxe the FV header (FwBlockService.c ValidateFvHeader and
/// InitializeVariableFvHeader), VariableRuntimeDxe the FV file system and the store header
/// (VariableNonVolatile.c InitRealNonVolatileVariableStore, VariableParsing.c
/// GetVariableStoreStatus), then the records (<see cref="VariableRecordWalker"/>), and
/// FaultTolerantWriteDxe its working block (<see cref="FtwWorkspaceReader"/>). Every length field
/// is bounded by what contains it before it is used: no input makes it throw.
/// </summary>
internal static class VarstoreParser
{
    public static VarstoreImage Parse(ReadOnlyMemory<byte> bytes)
    {
        var image = new VarstoreImage(bytes);
        var findings = new VarstoreFindings();
        try
        {
            ParseInto(image, bytes.Span, findings);
        }
        finally
        {
            image.Issues = findings.Issues;
            image.Errors = findings.Issues.Where(i => i.Class == VarstoreIssueClass.Reject).Select(i => i.ToString()).ToList();
            image.Warnings = findings.Issues.Where(i => i.Class != VarstoreIssueClass.Reject).Select(i => i.ToString()).ToList();
        }

        return image;
    }

    private static void ParseInto(VarstoreImage image, ReadOnlySpan<byte> span, VarstoreFindings findings)
    {
        if (span.Length < FvMinimumHeader + StoreHeaderSize)
        {
            findings.Reject(0, $"the file is only {span.Length} bytes: too small to hold a firmware volume and a variable store header");
            return;
        }

        if (span.IndexOfAnyExcept((byte)0xFF) < 0 || span.IndexOfAnyExcept((byte)0x00) < 0)
        {
            findings.Reject(0, $"blank: all {span.Length} bytes are 0x{span[0]:X2}, there is no firmware volume");
            return;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(span[FvSignature..]) != FvhSignature)
        {
            findings.Reject(FvSignature, "no firmware volume header: the '_FVH' signature is missing (ValidateFvHeader)");
            return;
        }

        if (!ParseVolumeHeader(image, span, findings))
        {
            return;
        }

        int limit = (int)Math.Min(image.FvLength, span.Length);
        if (!ParseStoreHeader(image, span, limit, findings))
        {
            return;
        }

        VariableRecordWalker.Walk(image, span, findings);
        image.Ftw = FtwWorkspaceReader.Read(image, span, limit, findings);
    }

    private static bool ParseVolumeHeader(VarstoreImage image, ReadOnlySpan<byte> span, VarstoreFindings findings)
    {
        image.FileSystemGuid = new Guid(span.Slice(FvFileSystemGuid, 16));
        image.FvLength = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(span[FvLength..]), long.MaxValue);
        image.FvAttributes = BinaryPrimitives.ReadUInt32LittleEndian(span[FvAttributes..]);
        image.FvHeaderLength = BinaryPrimitives.ReadUInt16LittleEndian(span[FvHeaderLength..]);
        image.FvRevision = span[FvRevision];

        // VariableNonVolatile.c InitRealNonVolatileVariableStore: any other file system is
        // EFI_VOLUME_CORRUPTED and the variable driver does not start.
        if (image.FileSystemGuid != FirmwareGuids.SystemNvDataFv)
        {
            findings.Reject(FvFileSystemGuid, $"the volume's file system {image.FileSystemGuid} is not a variable store (OVMF's is gEfiSystemNvDataFvGuid {FirmwareGuids.SystemNvDataFv})");
            return false;
        }

        if (image.FvHeaderLength < FvMinimumHeader || image.FvHeaderLength + StoreHeaderSize > span.Length || (image.FvHeaderLength & 1) != 0)
        {
            findings.Reject(FvHeaderLength, $"FV HeaderLength 0x{image.FvHeaderLength:X} is impossible (at least 0x{FvMinimumHeader:X}, even, inside the file; ValidateFvHeader)");
            return false;
        }

        ushort sum = 0;
        for (int i = 0; i < image.FvHeaderLength; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(span[i..]);
        }

        image.FvChecksumValid = sum == 0;
        if (!image.FvChecksumValid)
        {
            findings.Reject(FvChecksum, $"FV header checksum is wrong (16-bit sum 0x{sum:X4}, should be 0; ValidateFvHeader)");
        }

        if (image.FvRevision != 2)
        {
            findings.Reject(FvRevision, $"FV header revision {image.FvRevision}, the firmware accepts only 2 (EFI_FVH_REVISION; ValidateFvHeader)");
        }

        ParseBlockMap(image, span, findings);
        CheckVolumeLength(image, span, findings);
        return true;
    }

    /// <summary>FvLength against the file: InitializeVariableFvHeader wants exactly the build's size, which is the file's.</summary>
    private static void CheckVolumeLength(VarstoreImage image, ReadOnlySpan<byte> span, VarstoreFindings findings)
    {
        if (image.FvLength > span.Length)
        {
            findings.Reject(FvLength, $"truncated: the volume says it is 0x{image.FvLength:X} bytes (FvLength) but the file has only 0x{span.Length:X}");
        }
        else if (image.FvLength < span.Length)
        {
            int next = (int)image.FvLength;
            image.IsUnifiedImage = next + FvSignature + 4 <= span.Length
                && BinaryPrimitives.ReadUInt32LittleEndian(span[(next + FvSignature)..]) == FvhSignature;
            if (!image.IsUnifiedImage)
            {
                findings.Reject(FvLength, $"padded: the file is 0x{span.Length:X} bytes but its volume is 0x{image.FvLength:X} (FvLength); the rest is not part of the store");
            }
        }
    }

    private static void ParseBlockMap(VarstoreImage image, ReadOnlySpan<byte> span, VarstoreFindings findings)
    {
        var entries = new List<FvBlockMapEntry>();
        long covered = 0;
        bool terminated = false;
        for (int at = FvBlockMap; at + 8 <= image.FvHeaderLength; at += 8)
        {
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            if (count == 0 && length == 0)
            {
                terminated = true;
                break;
            }

            entries.Add(new FvBlockMapEntry(count, length));
            covered += (long)count * length;
        }

        image.BlockMap = entries;

        // InitializeVariableFvHeader compares BlockMap[0].Length with PcdOvmfFirmwareBlockSize;
        // FvbInitialize counts the blocks it serves from the map, so a map short of FvLength
        // leaves the FTW spare area outside the volume the FVB protocol can write.
        if (entries.Count > 0 && entries[0].BlockLength != OvmfBlockSize)
        {
            findings.Reject(FvBlockMap + 4, $"the FV block map's block length is 0x{entries[0].BlockLength:X}, OVMF's flash blocks are 0x{OvmfBlockSize:X} (InitializeVariableFvHeader)");
        }

        if (!terminated)
        {
            findings.Reject(FvBlockMap, "the FV block map has no terminating (0, 0) entry inside the header");
        }
        else if (covered < image.FvLength)
        {
            findings.Reject(FvBlockMap, $"the FV block map covers 0x{covered:X} bytes but FvLength is 0x{image.FvLength:X}: the FVB driver serves only the blocks the map lists (FvbInitialize), the FTW spare area lies beyond them");
        }
        else if (covered > image.FvLength)
        {
            // Observed: OVMF boots normally; the extra blocks are never addressed.
            findings.Note(FvBlockMap, $"the FV block map covers 0x{covered:X} bytes but FvLength is 0x{image.FvLength:X}: the FVB driver counts blocks the flash does not have, which nothing addresses");
        }
    }

    private static bool ParseStoreHeader(VarstoreImage image, ReadOnlySpan<byte> span, int limit, VarstoreFindings findings)
    {
        int at = image.FvHeaderLength;
        var guid = new Guid(span.Slice(at, 16));
        if (guid != VariableGuids.AuthenticatedVariableStore && guid != VariableGuids.VariableStore)
        {
            findings.Reject(at, $"no variable store header: signature {guid} is neither gEfiAuthenticatedVariableGuid nor gEfiVariableGuid (GetVariableStoreStatus)");
            return false;
        }

        uint size = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + StoreSize)..]);
        bool truncated = image.FvLength > span.Length && size >= StoreHeaderSize && at + (long)size <= image.FvLength;
        if (truncated && at + (long)size > limit)
        {
            // A cut-off file: read the records that survived so they can still be rescued (vars convert).
            findings.Reject(at + StoreSize, $"the variable store (0x{size:X} bytes) runs past the end of the file; only its first 0x{limit - at:X} bytes can be read");
            size = (uint)(limit - at);
        }

        if (size < StoreHeaderSize || at + (long)size > limit)
        {
            findings.Reject(at + StoreSize, $"variable store Size 0x{size:X} does not fit the volume (0x{limit - at:X} bytes after the FV header)");
            return false;
        }

        image.StoreGuid = guid;
        image.StoreSize = (int)size;
        image.StoreFormat = span[at + StoreFormat];
        image.StoreState = span[at + StoreState];
        image.StoreOffset = at;
        if (image.StoreFormat != StoreFormatted)
        {
            findings.Reject(at + StoreFormat, $"variable store Format 0x{image.StoreFormat:X2} is not VARIABLE_STORE_FORMATTED (0x5A; GetVariableStoreStatus)");
        }

        if (image.StoreState != StoreHealthy)
        {
            findings.Reject(at + StoreState, $"variable store State 0x{image.StoreState:X2} is not VARIABLE_STORE_HEALTHY (0xFE; GetVariableStoreStatus)");
        }

        CheckStoreAgainstLayout(image, findings);
        return true;
    }

    /// <summary>
    /// The firmware copies PcdFlashNvStorageVariableSize bytes of the store and walks up to the
    /// header's Size (VariableNonVolatile.c only ASSERTs they agree): a Size reaching into the
    /// FTW area makes its walk run past its copy.
    /// </summary>
    private static void CheckStoreAgainstLayout(VarstoreImage image, VarstoreFindings findings)
    {
        if (OvmfLayout.Of(image.FvLength) is not { } layout)
        {
            return;
        }

        if (image.StoreEnd > layout.VariableRegionEnd)
        {
            findings.Reject(image.StoreOffset + StoreSize,
                $"variable store Size 0x{image.StoreSize:X} reaches 0x{image.StoreEnd:X}, past the variable region (0x{layout.VariableRegionEnd:X} in OVMF's layout): the firmware walks past its copy of the store");
        }
        else if (image.StoreEnd < layout.VariableRegionEnd)
        {
            findings.Note(image.StoreOffset + StoreSize,
                $"variable store Size 0x{image.StoreSize:X} ends at 0x{image.StoreEnd:X}, before the variable region's end (0x{layout.VariableRegionEnd:X} in OVMF's layout): the space between is never used");
        }
    }
}
