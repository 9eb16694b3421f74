using Emulator.Firmware.Varstore;

namespace Emulator.Firmware.Tests.Varstore;

[Trait("Category", "Fixture")]
public class VarstoreParserTests
{
    [Theory]
    [InlineData(FirmwareFixtures.Vars, 0x20000, 0xDFB8, 0xF000, 0x10000, 0x10000)]
    [InlineData(FirmwareFixtures.Vars4M, 0x84000, 0x3FFB8, 0x41000, 0x42000, 0x42000)]
    public void DebianTemplatesAreValidEmptyAuthenticatedStores(string name, long fvLength, int storeSize, int ftw, int spare, int spareLength)
    {
        var image = VarstoreImage.Parse(FirmwareFixtures.Load(name));

        Assert.True(image.IsValid, string.Join("; ", image.Errors));
        Assert.Empty(image.Warnings);
        Assert.Equal(fvLength, image.FvLength);
        Assert.True(image.FvChecksumValid);
        Assert.Equal(new FvBlockMapEntry((uint)(fvLength / 0x1000), 0x1000), Assert.Single(image.BlockMap));
        Assert.True(image.IsAuthenticated);
        Assert.Equal(0x48, image.StoreOffset);
        Assert.Equal(storeSize, image.StoreSize);
        Assert.Empty(image.Records);
        Assert.Equal(0x64, image.EndOfRecords);
        Assert.Equal(image.StoreEnd - 0x64, image.FreeBytes);
        var ftwBlock = Assert.IsType<FtwWorkingBlock>(image.Ftw);
        Assert.Equal(ftw, ftwBlock.Offset);
        Assert.True(ftwBlock.CrcValid);
        Assert.True(ftwBlock.MarkedValid);
        Assert.True(ftwBlock.WriteQueueEmpty);
        Assert.Equal(spare, ftwBlock.SpareOffset);
        Assert.Equal(spareLength, ftwBlock.SpareLength);
    }

    [Fact]
    public void UnifiedImageStartsWithTheVarstore()
    {
        var image = VarstoreImage.Parse(FirmwareFixtures.Load(FirmwareFixtures.Unified));

        Assert.True(image.IsValid, string.Join("; ", image.Errors));
        Assert.True(image.IsUnifiedImage);
        Assert.Equal(0x20000, image.FvLength);
    }

    [Theory]
    [InlineData(0xFF, "blank: all")]
    [InlineData(0x00, "blank: all")]
    public void BlankStoresAreNotVarstores(byte fill, string reason)
    {
        var bytes = new byte[0x20000];
        Array.Fill(bytes, fill);
        var image = VarstoreImage.Parse(bytes);

        Assert.False(image.IsUsable);
        var issue = Assert.Single(image.Issues);
        Assert.Equal(VarstoreIssueClass.Reject, issue.Class);
        Assert.StartsWith(reason, issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PaddedAndTruncatedStoresAreNamed()
    {
        byte[] vars = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        var padded = vars.Concat(Enumerable.Repeat((byte)0xFF, 0x64000)).ToArray();
        var truncated = FirmwareFixtures.Load(FirmwareFixtures.Vars4M)[..0x20000];

        Assert.Contains(VarstoreImage.Parse(padded).Issues, i => i.Class == VarstoreIssueClass.Reject && i.Message.StartsWith("padded:", StringComparison.Ordinal));
        var t = VarstoreImage.Parse(truncated);
        Assert.Contains(t.Issues, i => i.Class == VarstoreIssueClass.Reject && i.Offset == 0x20 && i.Message.StartsWith("truncated:", StringComparison.Ordinal));
        Assert.True(t.IsUsable, "the records of a truncated store can still be read");
    }

    [Fact]
    public void DamageIsReportedWithTheFieldThatIsWrong()
    {
        byte[] checksum = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        checksum[0x32] ^= 1;
        byte[] state = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        state[0x48 + 21] = 0xFF;
        byte[] blockMap = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        blockMap[0x38] = 0x10;
        blockMap[0x32] += 0x10; // keep the checksum right so only the block map is wrong
        byte[] ftw = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        ftw[0xF018] = 0x12;

        Assert.Contains(VarstoreImage.Parse(checksum).Errors, e => e.Contains("checksum", StringComparison.Ordinal));
        Assert.Contains(VarstoreImage.Parse(state).Errors, e => e.Contains("VARIABLE_STORE_HEALTHY", StringComparison.Ordinal));
        var bm = Assert.Single(VarstoreImage.Parse(blockMap).Issues);
        Assert.Equal((0x38L, VarstoreIssueClass.Reject), (bm.Offset, bm.Class));
        Assert.StartsWith("the FV block map covers 0x10000 bytes but FvLength is 0x20000", bm.Message, StringComparison.Ordinal);

        // WriteQueueSize changed, CRC left as it was: two fields differ from the header the FTW driver builds.
        var f = VarstoreImage.Parse(ftw);
        Assert.True(f.IsValid);
        Assert.True(f.NeedsRepair);
        Assert.False(f.Ftw!.CrcValid);
        Assert.False(f.Ftw.HeaderValid);
        Assert.Equal([0xF010L, 0xF018L], f.Issues.Where(i => i.Class == VarstoreIssueClass.Repair).Select(i => i.Offset));
    }

    [Fact]
    public void AnotherFirmwareFamilysVolumeIsNotAVarstore()
    {
        var image = VarstoreImage.Parse(TestStores.ForeignVolume(0x20000));

        Assert.False(image.IsUsable);
        Assert.Contains("is not a variable store", Assert.Single(image.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void RecordRunningPastTheStoreStopsTheWalk()
    {
        byte[] store = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars), "Test", TestStores.Vendor, VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess, [1, 2, 3]).Result;
        store[0x64 + 40] = 0xFF; // DataSize low byte
        store[0x64 + 41] = 0xFF;

        var image = VarstoreImage.Parse(store);
        Assert.Contains(image.Issues, i => i.Class == VarstoreIssueClass.Reject && i.Offset == 0x64 && i.Message.StartsWith("the record at 0x64: NameSize", StringComparison.Ordinal));
        Assert.Empty(image.Records);
    }

    /// <summary>
    /// The first three records Debian's OVMF (2 MB build) writes on its first boot, as our
    /// emulator's flash holds them after reaching the banner: the data follows the name with no
    /// padding (VariableFormat.h: ALIGNMENT 1, GET_PAD_SIZE 0), only headers are 4-aligned, so
    /// CustomMode (NameSize 22) keeps its one data byte at name + 22 and certdb starts at 0xB8.
    /// </summary>
    [Fact]
    public void RecordsWrittenByOvmfHaveNoPaddingBetweenNameAndData()
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        Convert.FromHexString(OvmfFirstRecords).CopyTo(store, 0x64);

        var image = VarstoreImage.Parse(store);

        Assert.True(image.IsValid, string.Join("; ", image.Errors));
        Assert.Empty(image.Warnings);
        Assert.Equal(["CustomMode", "certdb", "VendorKeysNv"], image.Records.Select(r => r.Name));
        Assert.Equal([0x64, 0xB8, 0x108], image.Records.Select(r => r.Offset));
        Assert.All(image.Records, r => Assert.True(r.IsLive));
        Assert.Equal(new byte[] { 0 }, image.Records[0].Data.ToArray());
        Assert.Equal(new byte[] { 4, 0, 0, 0 }, image.Records[1].Data.ToArray());
        Assert.Equal(new byte[] { 1 }, image.Records[2].Data.ToArray());
        Assert.Equal(0x160, image.EndOfRecords);
    }

    private const string OvmfFirstRecords =
        "aa553f00030000000000000000000000000000000000000000000000000000000000000016000000010000000cec76c028709943a07271ee5c448b9f43007500730074006f006d004d006f0064006500000000ffaa553f0027000000000000000000000000000000000000000000000000000000000000000e000000040000006ee5bed9dc75d949b4d7b534210f637a630065007200740064006200000004000000ffffaa553f0023000000000000000000000000000000000000000000000000000000000000001a00000001000000e0e47390ec606e4b99034c223c260f3c560065006e0064006f0072004b006500790073004e007600000001ff";
}
