using System.Buffers.Binary;
using System.Text;
using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Reads a varstore the way OVMF's drivers judge it: QemuFlashFvbServicesRuntimeDxe validates the
/// FV header (ValidateFvHeader), VariableRuntimeDxe the store header and records
/// (VariableParsing.c IsValidVariableHeader/GetNextVariablePtr, Variable.c FindVariableEx),
/// FaultTolerantWriteDxe the working block (FtwMisc.c IsValidWorkSpace).
/// </summary>
internal static class VarstoreParser
{
    public static VarstoreImage Parse(ReadOnlyMemory<byte> bytes)
    {
        var image = new VarstoreImage(bytes);
        var errors = new List<string>();
        var warnings = new List<string>();
        try
        {
            ParseInto(image, bytes.Span, errors, warnings);
        }
        finally
        {
            image.Errors = errors;
            image.Warnings = warnings;
        }

        return image;
    }

    private static void ParseInto(VarstoreImage image, ReadOnlySpan<byte> span, List<string> errors, List<string> warnings)
    {
        if (span.Length < FvMinimumHeader + StoreHeaderSize)
        {
            errors.Add($"the file is only {span.Length} bytes: too small to hold a firmware volume and a variable store header");
            return;
        }

        if (span.IndexOfAnyExcept((byte)0xFF) < 0 || span.IndexOfAnyExcept((byte)0x00) < 0)
        {
            errors.Add($"blank: all {span.Length} bytes are 0x{span[0]:X2}, there is no firmware volume");
            return;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(span[FvSignature..]) != FvhSignature)
        {
            errors.Add("no firmware volume header at offset 0 (the '_FVH' signature is missing at 0x28)");
            return;
        }

        if (!ParseVolumeHeader(image, span, errors))
        {
            return;
        }

        int limit = (int)Math.Min(image.FvLength, span.Length);
        if (!ParseStoreHeader(image, span, limit, errors))
        {
            return;
        }

        ParseRecords(image, span, errors, warnings);
        image.Ftw = FindWorkingBlock(image, span, limit, warnings);
    }

    private static bool ParseVolumeHeader(VarstoreImage image, ReadOnlySpan<byte> span, List<string> errors)
    {
        image.FileSystemGuid = new Guid(span.Slice(FvFileSystemGuid, 16));
        image.FvLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[FvLength..]);
        image.FvAttributes = BinaryPrimitives.ReadUInt32LittleEndian(span[FvAttributes..]);
        image.FvHeaderLength = BinaryPrimitives.ReadUInt16LittleEndian(span[FvHeaderLength..]);
        image.FvRevision = span[FvRevision];
        if (image.FileSystemGuid != FirmwareGuids.SystemNvDataFv)
        {
            errors.Add($"the volume's file system {image.FileSystemGuid} is not a variable store (OVMF's is gEfiSystemNvDataFvGuid {FirmwareGuids.SystemNvDataFv})");
            return false;
        }

        if (image.FvHeaderLength < FvMinimumHeader || image.FvHeaderLength + StoreHeaderSize > span.Length || (image.FvHeaderLength & 1) != 0)
        {
            errors.Add($"FV HeaderLength 0x{image.FvHeaderLength:X} is impossible (at least 0x{FvMinimumHeader:X}, even, inside the file)");
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
            errors.Add($"FV header checksum is wrong (16-bit sum 0x{sum:X4}, should be 0)");
        }

        if (image.FvRevision != 2)
        {
            errors.Add($"FV header revision {image.FvRevision}, the firmware accepts only 2 (EFI_FVH_REVISION)");
        }

        ParseBlockMap(image, span, errors);
        if (image.FvLength > span.Length)
        {
            errors.Add($"truncated: the volume says it is 0x{image.FvLength:X} bytes (FvLength) but the file has only 0x{span.Length:X}");
        }
        else if (image.FvLength < span.Length)
        {
            int next = (int)image.FvLength;
            image.IsUnifiedImage = next + FvSignature + 4 <= span.Length
                && BinaryPrimitives.ReadUInt32LittleEndian(span[(next + FvSignature)..]) == FvhSignature;
            if (!image.IsUnifiedImage)
            {
                errors.Add($"padded: the file is 0x{span.Length:X} bytes but its volume is 0x{image.FvLength:X} (FvLength); the rest is not part of the store");
            }
        }

        return true;
    }

    private static void ParseBlockMap(VarstoreImage image, ReadOnlySpan<byte> span, List<string> errors)
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
        if (!terminated)
        {
            errors.Add("the FV block map has no terminating (0, 0) entry inside the header");
        }
        else if (covered != image.FvLength)
        {
            errors.Add($"the FV block map covers 0x{covered:X} bytes but FvLength is 0x{image.FvLength:X}");
        }
    }

    private static bool ParseStoreHeader(VarstoreImage image, ReadOnlySpan<byte> span, int limit, List<string> errors)
    {
        int at = image.FvHeaderLength;
        var guid = new Guid(span.Slice(at, 16));
        if (guid != VariableGuids.AuthenticatedVariableStore && guid != VariableGuids.VariableStore)
        {
            errors.Add($"no variable store header at 0x{at:X}: signature {guid} is neither gEfiAuthenticatedVariableGuid nor gEfiVariableGuid");
            return false;
        }

        uint size = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + StoreSize)..]);
        bool truncated = image.FvLength > span.Length && size >= StoreHeaderSize && at + (long)size <= image.FvLength;
        if (truncated && at + (long)size > limit)
        {
            // A cut-off file: read the records that survived so they can still be rescued (vars convert).
            errors.Add($"the variable store (0x{size:X} bytes) runs past the end of the file; only its first 0x{limit - at:X} bytes can be read");
            size = (uint)(limit - at);
        }

        if (size < StoreHeaderSize || at + (long)size > limit)
        {
            errors.Add($"variable store Size 0x{size:X} at 0x{at:X} does not fit the volume (0x{limit - at:X} bytes after the FV header)");
            return false;
        }

        image.StoreGuid = guid;
        image.StoreSize = (int)size;
        image.StoreFormat = span[at + StoreFormat];
        image.StoreState = span[at + StoreState];
        image.StoreOffset = at;
        if (image.StoreFormat != StoreFormatted)
        {
            errors.Add($"variable store Format 0x{image.StoreFormat:X2} is not VARIABLE_STORE_FORMATTED (0x5A)");
        }

        if (image.StoreState != StoreHealthy)
        {
            errors.Add($"variable store State 0x{image.StoreState:X2} is not VARIABLE_STORE_HEALTHY (0xFE)");
        }

        return true;
    }

    private static void ParseRecords(VarstoreImage image, ReadOnlySpan<byte> span, List<string> errors, List<string> warnings)
    {
        var records = new List<VariableRecord>();
        int end = image.StoreEnd;
        int headerSize = image.IsAuthenticated ? AuthHeaderSize : PlainHeaderSize;
        int offset = Align4(image.StoreOffset + StoreHeaderSize);
        while (offset + headerSize <= end && BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]) == StartId)
        {
            VariableRecord? record = ReadRecord(image, span, offset, headerSize, end, errors);
            if (record is null)
            {
                break;
            }

            if (record.State is not (VariableState.Added or VariableState.AddedInTransition or VariableState.HeaderValidOnly)
                && !VariableState.IsDeleted(record.State))
            {
                warnings.Add($"record '{record.Name}' at 0x{offset:X} has the unknown state 0x{record.State:X2}");
            }

            records.Add(record);
            offset += record.AlignedLength;
        }

        image.Records = records;
        image.EndOfRecords = Math.Min(offset, end);
        int dirty = span[image.EndOfRecords..end].IndexOfAnyExcept((byte)0xFF);
        if (errors.Count == 0 && dirty >= 0)
        {
            warnings.Add($"the free space after the last record is not erased (0x{span[image.EndOfRecords + dirty]:X2} at 0x{image.EndOfRecords + dirty:X}): the firmware will reclaim (rewrite) the store at the next boot");
        }

        MarkLive(records, warnings);
    }

    private static VariableRecord? ReadRecord(VarstoreImage image, ReadOnlySpan<byte> span, int offset, int headerSize, int end, List<string> errors)
    {
        ReadOnlySpan<byte> h = span[offset..];
        bool auth = image.IsAuthenticated;
        uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(h[(auth ? AuthNameSize : PlainNameSize)..]);
        uint dataSize = BinaryPrimitives.ReadUInt32LittleEndian(h[(auth ? AuthDataSize : PlainDataSize)..]);
        long nameStart = offset + headerSize;
        // GET_PAD_SIZE pads the name to ALIGNMENT, which VariableFormat.h sets to 1 on IA32/X64
        // (8 only on Itanium): the data follows the name directly; only records are 4-byte aligned.
        long dataStart = nameStart + nameSize;
        long dataEnd = dataStart + dataSize;
        if (nameSize == 0 || (nameSize & 1) != 0 || nameSize > int.MaxValue || dataSize > int.MaxValue || dataEnd > end)
        {
            errors.Add($"record at 0x{offset:X}: NameSize 0x{nameSize:X} / DataSize 0x{dataSize:X} do not fit the store (ends at 0x{end:X})");
            return null;
        }

        var bytes = image.Bytes;
        string name = Encoding.Unicode.GetString(span.Slice((int)nameStart, (int)nameSize));
        int nul = name.IndexOf('\0', StringComparison.Ordinal);
        byte state = h[RecordState];

        // An interrupted write leaves a header whose body was never programmed (State 0xFF or
        // VAR_HEADER_VALID_ONLY): the firmware steps over it by its sizes, so only a live record must be whole.
        if (nul < 0 && state is VariableState.Added or VariableState.AddedInTransition)
        {
            errors.Add($"record at 0x{offset:X}: the name is not NUL-terminated");
            return null;
        }

        return new VariableRecord
        {
            Offset = offset,
            HeaderSize = headerSize,
            State = state,
            Attributes = (VariableAttributes)BinaryPrimitives.ReadUInt32LittleEndian(h[RecordAttributes..]),
            MonotonicCount = auth ? BinaryPrimitives.ReadUInt64LittleEndian(h[AuthMonotonicCount..]) : 0,
            TimeStamp = auth ? bytes.Slice(offset + AuthTimeStamp, TimeStampSize) : new byte[TimeStampSize],
            PubKeyIndex = auth ? BinaryPrimitives.ReadUInt32LittleEndian(h[AuthPubKeyIndex..]) : 0,
            NameSize = (int)nameSize,
            DataSize = (int)dataSize,
            VendorGuid = new Guid(h.Slice(auth ? AuthVendorGuid : PlainVendorGuid, 16)),
            Name = nul < 0 ? string.Empty : name[..nul],
            Data = bytes.Slice((int)dataStart, (int)dataSize),
            AlignedLength = Align4((int)dataEnd) - offset,
        };
    }

    private static void MarkLive(List<VariableRecord> records, List<string> warnings)
    {
        foreach (var group in records.GroupBy(r => (r.Name, r.VendorGuid)))
        {
            var added = group.Where(r => r.State == VariableState.Added).ToList();
            var live = added.Count > 0 ? added : group.Where(r => r.State == VariableState.AddedInTransition).ToList();
            foreach (var r in live)
            {
                r.IsLive = true;
            }

            if (live.Count > 1)
            {
                warnings.Add($"variable '{group.Key.Name}' {group.Key.VendorGuid} has {live.Count} live copies; the firmware uses the first (0x{live[0].Offset:X})");
            }
        }
    }

    private static FtwWorkingBlock? FindWorkingBlock(VarstoreImage image, ReadOnlySpan<byte> span, int limit, List<string> warnings)
    {
        Span<byte> signature = stackalloc byte[16];
        VariableGuids.FtwWorkingBlockSignature.TryWriteBytes(signature);
        int at = (image.StoreEnd + 7) & ~7;
        int found = -1;
        for (; at + FtwHeaderSize <= limit; at += 8)
        {
            if (span.Slice(at, 16).SequenceEqual(signature))
            {
                found = at;
                break;
            }
        }

        if (found < 0)
        {
            warnings.Add("no fault-tolerant-write working block after the variable store: FaultTolerantWriteDxe will write a new one into the file at the next boot");
            return null;
        }

        Span<byte> header = stackalloc byte[FtwHeaderSize];
        span.Slice(found, FtwHeaderSize).CopyTo(header);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[FtwCrc..]);

        // The CRC covers the header with Crc = 0xFFFFFFFF and the state bits erased (FtwMisc.c InitWorkSpaceHeader).
        BinaryPrimitives.WriteUInt32LittleEndian(header[FtwCrc..], 0xFFFF_FFFF);
        header[FtwState] = 0xFF;
        bool crcValid = Crc32.Compute(header) == crc;
        byte state = span[found + FtwState];
        bool markedValid = (state & 0x01) == 0 && (state & 0x02) != 0;
        ulong queueSize = BinaryPrimitives.ReadUInt64LittleEndian(span[(found + FtwWriteQueueSize)..]);
        int queueStart = found + FtwHeaderSize;
        long spareStart = queueStart + (long)queueSize;
        if (!crcValid || !markedValid || spareStart > limit)
        {
            warnings.Add($"the fault-tolerant-write working block at 0x{found:X} is {(crcValid ? "not marked valid" : "damaged (CRC wrong)")}: FaultTolerantWriteDxe will reinitialise it");
            return new FtwWorkingBlock(found, crcValid, markedValid, queueSize, true, true, limit, 0);
        }

        byte first = span[queueStart];
        bool empty = span.Slice(queueStart, (int)queueSize).IndexOfAnyExcept((byte)0xFF) < 0;
        bool complete = empty || (first & FtwHeaderAllocatedBit) != 0 || (first & FtwCompleteBit) == 0;
        int spareLength = limit - (int)spareStart;
        if (!complete)
        {
            warnings.Add("the fault-tolerant-write queue holds an unfinished write: the firmware will finish it at the next boot, possibly rewriting the variable store from the spare area");
        }

        if (spareLength < image.StoreEnd)
        {
            warnings.Add($"the FTW spare area (0x{spareLength:X} bytes) is smaller than the variable region (0x{image.StoreEnd:X}): the firmware cannot reclaim space");
        }

        return new FtwWorkingBlock(found, crcValid, markedValid, queueSize, empty, complete, (int)spareStart, spareLength);
    }
}
