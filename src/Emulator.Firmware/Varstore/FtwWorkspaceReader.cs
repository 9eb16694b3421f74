using System.Buffers.Binary;
using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Judges the FTW working block as FaultTolerantWriteDxe does when it starts
/// (MdeModulePkg/Universal/FaultTolerantWriteDxe, edk2-stable202302 and 202502 alike): it reads
/// the working block at its build-time place (<see cref="OvmfLayout"/>), accepts it only when the
/// header equals the one it builds itself (UpdateWorkingBlock.c IsValidWorkSpace,
/// InitializeLocalWorkSpaceHeader: signature, CRC, state bits, WriteQueueSize = working size −
/// header), otherwise restores it from the spare area's copy or writes a fresh one
/// (FtwMisc.c InitFtwProtocol). In a valid block it walks the write queue
/// (FtwGetLastWriteHeader, FtwGetLastWriteRecord), completes or aborts an interrupted write and
/// compacts a queue that is full or not erased after its last entry. Nothing read here is used
/// as a length before it is bounded by the working block.
/// </summary>
internal static class FtwWorkspaceReader
{
    public static FtwWorkingBlock? Read(VarstoreImage image, ReadOnlySpan<byte> span, int limit, VarstoreFindings findings)
    {
        if (OvmfLayout.Of(image.FvLength) is not { } layout)
        {
            findings.Note(FvLength, $"a 0x{image.FvLength:X}-byte volume is no OVMF layout: the fault-tolerant-write working block is not checked");
            return null;
        }

        int at = layout.WorkingBlock;
        if (at + layout.WorkingBlockSize > limit)
        {
            return null; // a truncated file, already rejected
        }

        ReadOnlySpan<byte> block = span.Slice(at, layout.WorkingBlockSize);
        var header = HeaderProblems(block, layout.WorkingBlockSize, out bool crcValid);
        byte state = block[FtwState];
        ulong queueSize = BinaryPrimitives.ReadUInt64LittleEndian(block[FtwWriteQueueSize..]);
        if (header.Count > 0)
        {
            ReportInvalidHeader(span, layout, limit, header, findings);
            return new FtwWorkingBlock(at, false, crcValid, (state & 0x03) == 0x02, queueSize, true, true, layout.SpareOffset, layout.SpareLength);
        }

        ReadOnlySpan<byte> queue = block[FtwHeaderSize..];
        bool empty = queue.IndexOfAnyExcept((byte)0xFF) < 0;
        bool complete = empty || WalkQueue(block, at, layout.VariableRegionEnd, findings);
        return new FtwWorkingBlock(at, true, true, true, queueSize, empty, complete, layout.SpareOffset, layout.SpareLength);
    }

    /// <summary>Each field of the header that differs from the firmware's own, with its offset in the block.</summary>
    private static List<(int Offset, string Problem)> HeaderProblems(ReadOnlySpan<byte> block, int blockSize, out bool crcValid)
    {
        var problems = new List<(int, string)>();
        Span<byte> signature = stackalloc byte[16];
        VariableGuids.FtwWorkingBlockSignature.TryWriteBytes(signature);
        if (!block[..16].SequenceEqual(signature))
        {
            problems.Add((0, $"no FTW working block signature (gEdkiiWorkingBlockSignatureGuid {VariableGuids.FtwWorkingBlockSignature})"));
        }

        // The CRC covers the header with Crc = 0xFFFFFFFF and the state byte erased (InitializeLocalWorkSpaceHeader).
        Span<byte> copy = stackalloc byte[FtwHeaderSize];
        block[..FtwHeaderSize].CopyTo(copy);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(copy[FtwCrc..]);
        BinaryPrimitives.WriteUInt32LittleEndian(copy[FtwCrc..], 0xFFFF_FFFF);
        copy[FtwState] = 0xFF;
        uint expected = Crc32.Compute(copy);
        crcValid = expected == crc;
        if (!crcValid)
        {
            problems.Add((FtwCrc, $"FTW working block CRC 0x{crc:X8} is wrong (should be 0x{expected:X8})"));
        }

        byte state = block[FtwState];
        if (state != FtwStateValid)
        {
            problems.Add((FtwState, $"FTW working block state 0x{state:X2} is not 0x{FtwStateValid:X2} (WorkingBlockValid set, WorkingBlockInvalid clear)"));
        }

        if (block.Slice(FtwReserved3, 3).IndexOfAnyExcept((byte)0xFF) >= 0)
        {
            problems.Add((FtwReserved3, "FTW working block reserved bytes are not erased"));
        }

        ulong queueSize = BinaryPrimitives.ReadUInt64LittleEndian(block[FtwWriteQueueSize..]);
        ulong expectedQueue = (ulong)(blockSize - FtwHeaderSize);
        if (queueSize != expectedQueue)
        {
            problems.Add((FtwWriteQueueSize, $"FTW WriteQueueSize 0x{queueSize:X} is not 0x{expectedQueue:X} (the 0x{blockSize:X}-byte working block less its header)"));
        }

        return problems;
    }

    private static void ReportInvalidHeader(ReadOnlySpan<byte> span, OvmfLayout layout, int limit, List<(int Offset, string Problem)> problems, VarstoreFindings findings)
    {
        int at = layout.WorkingBlock;
        bool erased = span.Slice(at, FtwHeaderSize).IndexOfAnyExcept((byte)0xFF) < 0;
        bool spareValid = layout.SpareOffset + layout.WorkingBlockSize <= limit
            && HeaderProblems(span.Slice(layout.SpareOffset, layout.WorkingBlockSize), layout.WorkingBlockSize, out _).Count == 0;
        string consequence = spareValid
            ? $"FaultTolerantWriteDxe finds the working block invalid (IsValidWorkSpace) and restores it from the valid copy at the start of the spare area (0x{layout.SpareOffset:X}; InitFtwProtocol, FlushSpareBlockToWorkingBlock)"
            : "FaultTolerantWriteDxe finds the working block invalid (IsValidWorkSpace), and the spare area's copy too, so it writes a fresh, empty working block (InitFtwProtocol); a pending write in the old one is forgotten";
        if (erased)
        {
            findings.Repair(at, $"no FTW working block at 0x{at:X} (erased): {consequence}");
            return;
        }

        foreach (var (offset, problem) in problems)
        {
            findings.Repair(at + offset, $"{problem}: {consequence}");
        }
    }

    /// <summary>
    /// FtwGetLastWriteHeader: skip complete write headers by FTW_WRITE_TOTAL_SIZE, bounded by the
    /// working block; then judge the last one. Returns false when a write was left unfinished.
    /// </summary>
    private static bool WalkQueue(ReadOnlySpan<byte> block, int blockOffset, int variableRegionEnd, VarstoreFindings findings)
    {
        int last = FtwHeaderSize;
        while (last + FtwWriteHeaderSize <= block.Length && (block[last] & FtwCompleteBit) == 0)
        {
            if (!Fits(block, blockOffset, last, findings))
            {
                return true;
            }

            last += (int)WriteTotalSize(block[last..]);
        }

        // WorkSpaceRefresh: less room than one header and one record left means a full queue.
        if (block.Length - last < FtwWriteHeaderSize + FtwWriteRecordSize)
        {
            findings.Note(blockOffset + last, "the fault-tolerant-write queue is full: the firmware compacts the working block at the next boot (WorkSpaceRefresh, FtwReclaimWorkSpace)");
            if (last + FtwWriteHeaderSize > block.Length)
            {
                return true;
            }
        }

        bool allocated = (block[last] & FtwHeaderAllocatedBit) == 0;
        if (allocated && !Fits(block, blockOffset, last, findings))
        {
            return true;
        }

        bool unfinished = allocated && JudgeLastWrite(block, blockOffset, last, variableRegionEnd, findings);
        int after = block[last] == 0xFF ? last : last + (int)WriteTotalSize(block[last..]);
        int dirty = block[after..].IndexOfAnyExcept((byte)0xFF);
        if (dirty >= 0)
        {
            findings.Repair(blockOffset + after + dirty, $"the FTW working block is not erased after its last write (0x{block[after + dirty]:X2} at 0x{blockOffset + after + dirty:X}): the firmware compacts it at the next boot (InitFtwProtocol, FtwReclaimWorkSpace)");
        }

        return !unfinished;
    }

    /// <summary>Whether the write header at <paramref name="at"/> and its records lie inside the working block; reports it when not.</summary>
    private static bool Fits(ReadOnlySpan<byte> block, int blockOffset, int at, VarstoreFindings findings)
    {
        if (WriteTotalSize(block[at..]) <= block.Length - at)
        {
            return true;
        }

        findings.Repair(blockOffset + at, $"the FTW write header at 0x{blockOffset + at:X} (NumberOfWrites 0x{BinaryPrimitives.ReadUInt64LittleEndian(block[(at + FtwNumberOfWrites)..]):X}, "
            + $"PrivateDataSize 0x{BinaryPrimitives.ReadUInt64LittleEndian(block[(at + FtwPrivateDataSize)..]):X}) runs past the working block: the firmware's queue walk fails and it compacts the working block (WorkSpaceRefresh, FtwReclaimWorkSpace)");
        return false;
    }

    /// <summary>An allocated, incomplete write header: which record was interrupted and what InitFtwProtocol does with it.</summary>
    private static bool JudgeLastWrite(ReadOnlySpan<byte> block, int blockOffset, int last, int variableRegionEnd, VarstoreFindings findings)
    {
        ulong writes = BinaryPrimitives.ReadUInt64LittleEndian(block[(last + FtwNumberOfWrites)..]);
        int recordSize = FtwWriteRecordSize + (int)BinaryPrimitives.ReadUInt64LittleEndian(block[(last + FtwPrivateDataSize)..]);
        if (writes == 0)
        {
            return false;
        }

        // FtwGetLastWriteRecord: the first record whose destination is not complete, else the last.
        int index = 0;
        int record = last + FtwWriteHeaderSize;
        while ((ulong)index + 1 < writes && (block[record] & FtwDestinationCompleteBit) == 0)
        {
            index++;
            record += recordSize;
        }

        bool spareComplete = (block[record] & FtwSpareCompleteBit) == 0;
        bool destinationComplete = (block[record] & FtwDestinationCompleteBit) == 0;
        ulong lba = BinaryPrimitives.ReadUInt64LittleEndian(block[(record + FtwRecordLba)..]);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(block[(record + FtwRecordOffset)..]);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(block[(record + FtwRecordLength)..]);
        string which = $"an interrupted fault-tolerant write at 0x{blockOffset + last:X} (write {index + 1} of {writes}: LBA 0x{lba:X}, offset 0x{offset:X}, 0x{length:X} bytes)";
        string outcome = (destinationComplete, spareComplete, index) switch
        {
            (true, _, _) => "every write reached its target but the header was not marked complete: the firmware marks it (InitFtwProtocol, FtwAbort)",
            (false, true, _) when lba < (ulong)(variableRegionEnd / OvmfBlockSize) && offset < (ulong)variableRegionEnd && offset + (lba * OvmfBlockSize) < (ulong)variableRegionEnd =>
                "its new data is complete in the spare area, so FaultTolerantWriteDxe finishes it at the next boot, copying the spare over the variable store (InitFtwProtocol, FtwRestart); "
                + "but VariableRuntimeDxe has read the old store before and keeps appending from its own copy, so the records the write brought back are overwritten (observed with OVMF built without SMM): count them as lost",
            (false, true, _) => "its new data is complete in the spare area, so the firmware finishes it at the next boot, copying the spare over its target (InitFtwProtocol, FtwRestart)",
            (false, false, 0) => "its new data never reached the spare area, so the firmware abandons it (InitFtwProtocol, FtwAbort); the target keeps its old content",
            _ => "its new data never reached the spare area; the firmware leaves it pending until its next fault-tolerant write",
        };
        findings.Repair(blockOffset + record, $"{which}: {outcome}");
        return true;
    }

    /// <summary>FTW_WRITE_TOTAL_SIZE(NumberOfWrites, PrivateDataSize), saturating instead of wrapping as the firmware's UINTN would.</summary>
    private static long WriteTotalSize(ReadOnlySpan<byte> header)
    {
        ulong writes = BinaryPrimitives.ReadUInt64LittleEndian(header[FtwNumberOfWrites..]);
        ulong privateSize = BinaryPrimitives.ReadUInt64LittleEndian(header[FtwPrivateDataSize..]);
        const ulong bound = 1UL << 24;
        if (writes >= bound || privateSize >= bound)
        {
            return long.MaxValue;
        }

        return FtwWriteHeaderSize + (long)(writes * (FtwWriteRecordSize + privateSize));
    }
}
