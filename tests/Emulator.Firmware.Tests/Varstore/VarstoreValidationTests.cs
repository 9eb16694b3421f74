using System.Buffers.Binary;
using Emulator.Firmware.Varstore;
using static Emulator.Firmware.Tests.Varstore.TestStores;

namespace Emulator.Firmware.Tests.Varstore;

/// <summary>
/// Each damage the firmware itself notices at boot is reported with its offset and with what the
/// firmware does about it (reject, repair, or a note), and no length field read from the file is
/// trusted before it is bounded.
/// </summary>
[Trait("Category", "Fixture")]
public class VarstoreValidationTests
{
    private const int FtwQueue = Ftw2M + 0x20;

    [Fact]
    public void ABrokenStartIdInTheMiddleLosesTheRecordsAfterItAtTheNextReclaim()
    {
        byte[] store = ThreeRecords();
        store[0xB8] = 0;
        store[0xB9] = 0;

        var image = VarstoreImage.Parse(store);

        Assert.True(image.IsValid);
        Assert.True(image.NeedsRepair);
        Assert.False(image.FreeSpaceErased);
        Assert.Equal(["EmuBefore"], image.Records.Select(r => r.Name));
        Assert.Equal(0xB8, image.EndOfRecords);
        Assert.Equal(["EmuAfter"], image.UnreachableRecords.Select(r => r.Name));
        var issue = Assert.Single(image.Issues);
        Assert.Equal((0xB8L, VarstoreIssueClass.Repair), (issue.Offset, issue.Class));
        Assert.Contains("StartId 0x0000, not 0x55AA", issue.Message, StringComparison.Ordinal);
        Assert.Contains("1 record at 0x10C onwards (1 live: EmuAfter)", issue.Message, StringComparison.Ordinal);
        Assert.Throws<VarstoreException>(() => VarstoreEditor.Set(store, "More", Vendor, VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess, [1]));
    }

    [Fact]
    public void AnImpossibleWriteQueueSizeWithAGoodCrcIsAnInvalidWorkingBlockNotACrash()
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(Ftw2M + 24), 0xFFFF_FFFF_FFFF_FFF0);
        FixFtwCrc(store);

        var image = VarstoreImage.Parse(store);

        Assert.True(image.IsValid);
        var ftw = Assert.IsType<FtwWorkingBlock>(image.Ftw);
        Assert.True(ftw.CrcValid);
        Assert.False(ftw.HeaderValid);
        var issue = Assert.Single(image.Issues);
        Assert.Equal((Ftw2M + 24L, VarstoreIssueClass.Repair), (issue.Offset, issue.Class));
        Assert.StartsWith("FTW WriteQueueSize 0xFFFFFFFFFFFFFFF0 is not 0xFE0", issue.Message, StringComparison.Ordinal);
        Assert.Contains("writes a fresh, empty working block", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWorkingBlockWithABadCrcIsRestoredFromAValidCopyInTheSpare()
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        store.AsSpan(Ftw2M, 0x1000).CopyTo(store.AsSpan(0x10000));
        store[Ftw2M + 16] ^= 1;

        var issue = Assert.Single(VarstoreImage.Parse(store).Issues);

        Assert.Equal((Ftw2M + 16L, VarstoreIssueClass.Repair), (issue.Offset, issue.Class));
        Assert.Contains("restores it from the valid copy at the start of the spare area (0x10000", issue.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0xFD, "finishes it at the next boot, copying the spare over the variable store")] // spare complete, destination not
    [InlineData(0xFD, "the records the write brought back are overwritten (observed with OVMF built without SMM)")]
    [InlineData(0xFF, "abandons it")] // the first write never reached the spare
    [InlineData(0xF9, "marks it")] // every write reached its target
    public void AnInterruptedFaultTolerantWriteIsFinishedOrAbandoned(byte recordFlags, string outcome)
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        store[FtwQueue] = 0xFC; // HeaderAllocated, WritesAllocated, not Complete
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(FtwQueue + 24), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(FtwQueue + 32), 0);
        store[FtwQueue + 40] = recordFlags;
        store.AsSpan(FtwQueue + 40 + 1, 23).Clear(); // reserved bytes, Lba 0, Offset 0
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(FtwQueue + 40 + 24), 0xE000);

        var image = VarstoreImage.Parse(store);

        Assert.False(image.Ftw!.WritesComplete);
        var issue = Assert.Single(image.Issues);
        Assert.Equal((FtwQueue + 40L, VarstoreIssueClass.Repair), (issue.Offset, issue.Class));
        Assert.Contains("write 1 of 1: LBA 0x0, offset 0x0, 0xE000 bytes", issue.Message, StringComparison.Ordinal);
        Assert.Contains(outcome, issue.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, 0UL)]
    [InlineData(1UL, 0x7FFF_FFFF_FFFF_FFFFUL)]
    [InlineData(100UL, 1UL)]
    public void AWriteHeaderWhoseRecordsRunPastTheWorkingBlockIsBoundedBeforeUse(ulong writes, ulong privateSize)
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        store[FtwQueue] = 0xF8; // allocated and complete: the firmware skips it by its size
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(FtwQueue + 24), writes);
        BinaryPrimitives.WriteUInt64LittleEndian(store.AsSpan(FtwQueue + 32), privateSize);

        var issue = Assert.Single(VarstoreImage.Parse(store).Issues);

        Assert.Equal((FtwQueue + 0L, VarstoreIssueClass.Repair), (issue.Offset, issue.Class));
        Assert.Contains("runs past the working block", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInterruptedHeaderWriteSpansOnlyItsHeaderAsInTheFirmware()
    {
        // Step 1 of UpdateVariable writes the header with State 0xFF: NameSizeOfVariable and
        // DataSizeOfVariable are then 0, so the next record starts right after the header.
        byte[] store = ThreeRecords();
        byte[] emuAfter = store.AsSpan(0x10C, 0x50).ToArray();
        store[0xB8 + 2] = 0xFF;
        store.AsSpan(0xB8 + 60, 0x10C + 0x50 - (0xB8 + 60)).Fill(0xFF);
        emuAfter.CopyTo(store, 0xF4);

        var image = VarstoreImage.Parse(store);

        Assert.Equal(["EmuBefore", string.Empty, "EmuAfter"], image.Records.Select(r => r.Name));
        Assert.Equal([0x64, 0xB8, 0xF4], image.Records.Select(r => r.Offset));
        Assert.Equal(["EmuBefore", "EmuAfter"], image.LiveVariables.Select(r => r.Name));
        var note = Assert.Single(image.Issues);
        Assert.Equal((0xBAL, VarstoreIssueClass.Note), (note.Offset, note.Class));
    }

    [Fact]
    public void RecordLevelOdditiesTheFirmwareToleratesAreNotes()
    {
        byte[] store = ThreeRecords();
        store[0xB8 + 2] = 0x1F; // not a State the driver writes
        BinaryPrimitives.WriteUInt32LittleEndian(store.AsSpan(0x10C + 32), 7); // a PubKeyIndex without count-based authentication

        var image = VarstoreImage.Parse(store);

        Assert.True(image.IsValid);
        Assert.False(image.NeedsRepair);
        Assert.All(image.Issues, i => Assert.Equal(VarstoreIssueClass.Note, i.Class));
        Assert.Contains(image.Issues, i => i.Offset == 0xBA && i.Message.Contains("unknown State 0x1F", StringComparison.Ordinal));
        Assert.Contains(image.Issues, i => i.Offset == 0x10C + 32 && i.Message.Contains("PubKeyIndex 7", StringComparison.Ordinal));
        Assert.Equal(3, image.Records.Count);
    }

    [Fact]
    public void ABlockMapOfAnotherBlockSizeIsRejected()
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        BinaryPrimitives.WriteUInt32LittleEndian(store.AsSpan(0x38), 2); // 2 blocks of 0x10000: the same 0x20000 bytes
        BinaryPrimitives.WriteUInt32LittleEndian(store.AsSpan(0x3C), 0x10000);
        FixFvChecksum(store);

        var issue = Assert.Single(VarstoreImage.Parse(store).Issues);

        Assert.Equal((0x3CL, VarstoreIssueClass.Reject), (issue.Offset, issue.Class));
        Assert.Contains("block length is 0x10000, OVMF's flash blocks are 0x1000", issue.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x10, VarstoreIssueClass.Reject)] // the spare area lies past the blocks the FVB driver serves: the boot stops
    [InlineData(0x40, VarstoreIssueClass.Note)] // more blocks than the flash has: OVMF boots normally
    public void ABlockMapDisagreeingWithFvLengthIsRejectedOnlyWhenShort(byte blocks, VarstoreIssueClass expected)
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        store[0x38] = blocks;
        FixFvChecksum(store);

        var issue = Assert.Single(VarstoreImage.Parse(store).Issues);

        Assert.Equal((0x38L, expected), (issue.Offset, issue.Class));
        Assert.StartsWith($"the FV block map covers 0x{blocks * 0x1000:X} bytes but FvLength is 0x20000", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStoreSizeReachingIntoTheFtwAreaIsRejected()
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        BinaryPrimitives.WriteUInt32LittleEndian(store.AsSpan(0x48 + 16), 0xF000 - 0x48);

        var issue = Assert.Single(VarstoreImage.Parse(store).Issues, i => i.Class == VarstoreIssueClass.Reject);

        Assert.Equal(0x48 + 16L, issue.Offset);
        Assert.Contains("past the variable region (0xE000", issue.Message, StringComparison.Ordinal);
    }
}
