using System.Buffers.Binary;
using System.Text;
using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Walks the records of a variable store exactly as VariableRuntimeDxe does
/// (MdeModulePkg/Universal/Variable/RuntimeDxe: VariableParsing.c IsValidVariableHeader,
/// GetNextVariablePtr, NameSizeOfVariable; VariableNonVolatile.c InitNonVolatileVariableStore),
/// then applies its boot-time check (Variable.c VariableWriteServiceInitialize): everything after
/// the last record the walk reached must be erased, or the store is reclaimed — rewritten with only
/// the live records the walk saw, so records after a broken header are lost.
/// </summary>
internal static class VariableRecordWalker
{
    /// <summary>UEFI 2.x attribute bits NV, BS, RT, HR, AW, TBAW, APPEND_WRITE (and EFI_VARIABLE_ENHANCED_AUTHENTICATED_ACCESS).</summary>
    private const uint KnownAttributes = 0xFF;

    public static void Walk(VarstoreImage image, ReadOnlySpan<byte> span, VarstoreFindings findings)
    {
        var records = new List<VariableRecord>();
        int end = image.StoreEnd;
        int headerSize = image.IsAuthenticated ? AuthHeaderSize : PlainHeaderSize;

        // GetStartPointer: HEADER_ALIGN of the first byte after the store header.
        int offset = Align4(image.StoreOffset + StoreHeaderSize);
        while (offset + 2 <= end && BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]) == StartId)
        {
            if (offset + headerSize > end)
            {
                findings.Reject(offset, $"a record header at 0x{offset:X} crosses the end of the store (0x{end:X}): the firmware reads it past its copy of the store");
                break;
            }

            VariableRecord? record = Read(image, span, offset, headerSize, end, findings);
            if (record is null)
            {
                break;
            }

            CheckRecord(image, record, findings);
            records.Add(record);
            offset += record.AlignedLength;
        }

        image.Records = records;
        image.EndOfRecords = Math.Min(offset, end);
        CheckFreeSpace(image, span, findings);
        MarkLive(records, findings);
    }

    /// <summary>
    /// One record by the firmware's arithmetic: NameSizeOfVariable and DataSizeOfVariable are 0
    /// when State, NameSize, DataSize or Attributes is all ones (a header whose write was cut
    /// short), the data follows the name directly (GET_PAD_SIZE is 0 on IA32/X64), and the next
    /// header is HEADER_ALIGN of the data's end. Null (with a rejection) when that runs past the store.
    /// </summary>
    private static VariableRecord? Read(VarstoreImage image, ReadOnlySpan<byte> span, int offset, int headerSize, int end, VarstoreFindings findings)
    {
        ReadOnlySpan<byte> h = span.Slice(offset, headerSize);
        bool auth = image.IsAuthenticated;
        byte state = h[RecordState];
        uint attributes = BinaryPrimitives.ReadUInt32LittleEndian(h[RecordAttributes..]);
        uint rawNameSize = BinaryPrimitives.ReadUInt32LittleEndian(h[(auth ? AuthNameSize : PlainNameSize)..]);
        uint rawDataSize = BinaryPrimitives.ReadUInt32LittleEndian(h[(auth ? AuthDataSize : PlainDataSize)..]);
        bool unwritten = state == 0xFF || rawNameSize == uint.MaxValue || rawDataSize == uint.MaxValue || attributes == uint.MaxValue;
        long nameSize = unwritten ? 0 : rawNameSize;
        long dataSize = unwritten ? 0 : rawDataSize;
        long nameStart = offset + headerSize;
        long dataEnd = nameStart + nameSize + dataSize;
        if (dataEnd > end)
        {
            findings.Reject(offset, $"the record at 0x{offset:X}: NameSize 0x{rawNameSize:X} + DataSize 0x{rawDataSize:X} run past the end of the store (0x{end:X}): "
                + "the firmware's walk ends outside the store and its next reclaim copies the record beyond its buffer");
            return null;
        }

        ReadOnlySpan<byte> nameBytes = span.Slice((int)nameStart, (int)nameSize & ~1);
        string name = Encoding.Unicode.GetString(nameBytes);
        int nul = name.IndexOf('\0', StringComparison.Ordinal);
        var bytes = image.Bytes;
        return new VariableRecord
        {
            Offset = offset,
            HeaderSize = headerSize,
            State = state,
            Attributes = (VariableAttributes)attributes,
            MonotonicCount = auth ? BinaryPrimitives.ReadUInt64LittleEndian(h[AuthMonotonicCount..]) : 0,
            TimeStamp = auth ? bytes.Slice(offset + AuthTimeStamp, TimeStampSize) : new byte[TimeStampSize],
            PubKeyIndex = auth ? BinaryPrimitives.ReadUInt32LittleEndian(h[AuthPubKeyIndex..]) : 0,
            NameSize = (int)nameSize,
            DataSize = (int)dataSize,
            VendorGuid = new Guid(h.Slice(auth ? AuthVendorGuid : PlainVendorGuid, 16)),
            Name = nul < 0 ? name : name[..nul],
            NameTerminated = nul >= 0,
            Data = bytes.Slice((int)(nameStart + nameSize), (int)dataSize),
            AlignedLength = Align4((int)dataEnd) - offset,
        };
    }

    /// <summary>What the firmware tolerates but a healthy store does not hold: notes, never a stop.</summary>
    private static void CheckRecord(VarstoreImage image, VariableRecord r, VarstoreFindings findings)
    {
        // An interrupted write's name may never have been programmed: it is not shown.
        if (r.State is VariableState.HeaderValidOnly or 0xFF)
        {
            findings.Note(r.Offset + RecordState, $"the record at 0x{r.Offset:X} is an interrupted write ({r.StateName}): the firmware ignores it and drops it at its next reclaim");
            return;
        }

        string what = $"the record at 0x{r.Offset:X}{(r.Name.Length > 0 ? $" ('{r.Name}')" : string.Empty)}";

        if (r.State is not (VariableState.Added or VariableState.AddedInTransition) && !VariableState.IsDeleted(r.State))
        {
            findings.Note(r.Offset + RecordState, $"{what} has the unknown State 0x{r.State:X2}: the firmware treats it as not live and drops it at its next reclaim");
            return;
        }

        if (VariableState.IsDeleted(r.State))
        {
            return;
        }

        // The firmware compares names by NameSize and copies them with StrSize: a name must be
        // whole UCS-2 characters ending in NUL (UEFI 2.10, 8.2 GetNextVariableName).
        if (r.NameSize == 0 || (r.NameSize & 1) != 0 || !r.NameTerminated)
        {
            findings.Note(r.Offset + (image.IsAuthenticated ? AuthNameSize : PlainNameSize),
                $"{what}: its name (NameSize 0x{r.NameSize:X}) is not a NUL-terminated UCS-2 string; the firmware keeps it, but GetNextVariableName may return garbage");
        }

        CheckAttributes(image, r, what, findings);
    }

    private static void CheckAttributes(VarstoreImage image, VariableRecord r, string what, VarstoreFindings findings)
    {
        uint bits = (uint)r.Attributes;
        int at = r.Offset + RecordAttributes;
        if ((bits & ~KnownAttributes) != 0 || (r.Attributes & VariableAttributes.NonVolatile) == 0)
        {
            findings.Note(at, $"{what} has the attributes 0x{bits:X8} (unknown bits or no NON_VOLATILE): not a record the firmware writes");
        }

        const VariableAttributes authBits = VariableAttributes.AuthenticatedWriteAccess | VariableAttributes.TimeBasedAuthenticatedWriteAccess;
        if (!image.IsAuthenticated && (r.Attributes & authBits) != 0)
        {
            findings.Note(at, $"{what} is authenticated in a plain (gEfiVariableGuid) store, whose headers have no room for the authentication fields");
        }

        // AUTHENTICATED_VARIABLE_HEADER: TimeStamp only for time-based variables, whose Pad1,
        // Nanosecond, TimeZone, Daylight and Pad2 are zero (UEFI 2.10, 8.2.2); PubKeyIndex only
        // for the deprecated count-based ones (AuthService.c).
        if (image.IsAuthenticated && (r.Attributes & VariableAttributes.TimeBasedAuthenticatedWriteAccess) != 0 && !IsAuthTimeStamp(r.TimeStamp.Span))
        {
            findings.Note(r.Offset + AuthTimeStamp, $"{what}: its TimeStamp is not an EFI_TIME the authenticated-write check accepts (month, day, time of day, zero Pad1/Nanosecond/TimeZone/Daylight)");
        }

        if (image.IsAuthenticated && (r.Attributes & VariableAttributes.AuthenticatedWriteAccess) == 0 && r.PubKeyIndex != 0)
        {
            findings.Note(r.Offset + AuthPubKeyIndex, $"{what}: PubKeyIndex {r.PubKeyIndex} on a variable without count-based authentication");
        }
    }

    private static bool IsAuthTimeStamp(ReadOnlySpan<byte> t)
    {
        ushort year = BinaryPrimitives.ReadUInt16LittleEndian(t);
        byte month = t[2], day = t[3], hour = t[4], minute = t[5], second = t[6];
        bool zeroed = t[7] == 0 && BinaryPrimitives.ReadUInt32LittleEndian(t[8..]) == 0 && BinaryPrimitives.ReadInt16LittleEndian(t[12..]) == 0 && t[14] == 0 && t[15] == 0;
        bool empty = t.IndexOfAnyExcept((byte)0) < 0;
        return empty || (zeroed && year is >= 1900 and <= 9999 && month is >= 1 and <= 12 && day is >= 1 and <= 31 && hour < 24 && minute < 60 && second < 60);
    }

    /// <summary>
    /// VariableWriteServiceInitialize: a byte other than 0xFF between the walk's end and Size
    /// makes the firmware reclaim the store at once; Reclaim copies only the records the walk
    /// reached, so any record after a broken header is gone. Scanning on for 0x55AA headers
    /// tells which.
    /// </summary>
    private static void CheckFreeSpace(VarstoreImage image, ReadOnlySpan<byte> span, VarstoreFindings findings)
    {
        int stop = image.EndOfRecords;
        int end = image.StoreEnd;
        int dirty = span[stop..end].IndexOfAnyExcept((byte)0xFF);
        image.FreeSpaceErased = dirty < 0;
        if (dirty < 0)
        {
            return;
        }

        var lost = FindUnreachable(image, span, stop + 4);
        image.UnreachableRecords = lost;
        int live = lost.Count(r => r.State is VariableState.Added or VariableState.AddedInTransition);
        string loss = lost.Count == 0
            ? $"everything from 0x{stop:X} on is dropped (no further record header is found)"
            : $"everything from 0x{stop:X} on is dropped, including {lost.Count} record{(lost.Count == 1 ? string.Empty : "s")} at 0x{lost[0].Offset:X} onwards ({live} live: {string.Join(", ", lost.Where(r => r.State is VariableState.Added or VariableState.AddedInTransition).Select(r => r.Name).Distinct().Take(8))})";
        if (stop + 2 <= end && BinaryPrimitives.ReadUInt16LittleEndian(span[stop..]) != 0xFFFF)
        {
            findings.Repair(stop, $"the record header at 0x{stop:X} has StartId 0x{BinaryPrimitives.ReadUInt16LittleEndian(span[stop..]):X4}, not 0x55AA: the firmware's walk stops there (IsValidVariableHeader) "
                + $"and, the rest not being erased, it reclaims the store at the next boot (VariableWriteServiceInitialize); {loss}");
        }
        else
        {
            findings.Repair(stop + dirty, $"the free space after the last record is not erased (0x{span[stop + dirty]:X2} at 0x{stop + dirty:X}): the firmware reclaims the store at the next boot (VariableWriteServiceInitialize); {loss}");
        }
    }

    /// <summary>Records found by scanning 4-byte boundaries for a plausible header, jumping over each one found.</summary>
    private static List<VariableRecord> FindUnreachable(VarstoreImage image, ReadOnlySpan<byte> span, int from)
    {
        var found = new List<VariableRecord>();
        var quiet = new VarstoreFindings();
        int headerSize = image.IsAuthenticated ? AuthHeaderSize : PlainHeaderSize;
        int end = image.StoreEnd;
        for (int at = Align4(from); at + headerSize <= end;)
        {
            byte state = span[at + RecordState];
            bool plausible = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]) == StartId
                && (state is VariableState.Added or VariableState.AddedInTransition or VariableState.HeaderValidOnly || VariableState.IsDeleted(state));
            VariableRecord? record = plausible ? Read(image, span, at, headerSize, end, quiet) : null;
            if (record is null)
            {
                at += 4;
                continue;
            }

            found.Add(record);
            at += record.AlignedLength;
        }

        return found;
    }

    private static void MarkLive(List<VariableRecord> records, VarstoreFindings findings)
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
                findings.Note(live[1].Offset, $"variable '{group.Key.Name}' {group.Key.VendorGuid} has {live.Count} live copies; the firmware uses the first (0x{live[0].Offset:X})");
            }
        }
    }
}
