using Emulator.Firmware.Varstore;

namespace Emulator.Firmware.Tests.Varstore;

[Trait("Category", "Fixture")]
public class VarstoreEditorTests
{
    private const VariableAttributes NvBsRt = VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess | VariableAttributes.RuntimeAccess;

    [Theory]
    [InlineData(FirmwareFixtures.Vars)]
    [InlineData(FirmwareFixtures.Vars4M)]
    public void SetAppendsARecordInTheFirmwaresOrder(string fixture)
    {
        byte[] original = FirmwareFixtures.Load(fixture);
        var edit = VarstoreEditor.Set(original, "EmuTest", TestStores.Vendor, NvBsRt, [0xDE, 0xAD, 0xBE, 0xEF, 0x01]);

        Assert.Equal(
            ["write the new record's header", "State = VAR_HEADER_VALID_ONLY", "write the name and data", "State = VAR_ADDED"],
            edit.Writes.Select(w => w.Step));
        Assert.Equal(0xFF, edit.Writes[0].Bytes[2]);
        var image = VarstoreImage.Parse(edit.Result);
        Assert.True(image.IsValid, string.Join("; ", image.Errors));
        var record = Assert.Single(image.Records);
        Assert.Equal(0x64, record.Offset);
        Assert.Equal(VariableState.Added, record.State);
        Assert.Equal(NvBsRt, record.Attributes);
        Assert.Equal(16, record.NameSize);
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF, 0x01 }, record.Data.ToArray());
        Assert.Equal(60 + 16 + 8, record.AlignedLength);

        // Only the record's bytes changed.
        int changed = Enumerable.Range(0, original.Length).Count(i => original[i] != edit.Result[i]);
        Assert.InRange(changed, 1, record.AlignedLength);
        Assert.Equal(original[(0x64 + record.AlignedLength)..], edit.Result[(0x64 + record.AlignedLength)..]);
    }

    [Fact]
    public void DataFollowsANameOfOddWordCountWithoutPadding()
    {
        // "CustomMode" as the 4 MB firmware writes it: NameSize 22, the data byte at header + 22.
        var edit = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars4M), "CustomMode", TestStores.Vendor, VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess, [0x5A]);

        Assert.Equal(0x5A, edit.Result[0x64 + 60 + 22]);
        Assert.Equal(0xFF, edit.Result[0x64 + 60 + 23]);
        var record = Assert.Single(VarstoreImage.Parse(edit.Result).Records);
        Assert.Equal(84, record.AlignedLength);
        Assert.Equal([0x5A], record.Data.ToArray());
    }

    [Fact]
    public void ReplacingMarksTheOldCopyDeletedAfterTheNewOneIsAdded()
    {
        byte[] first = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars), "EmuTest", TestStores.Vendor, NvBsRt, [1]).Result;
        var edit = VarstoreEditor.Set(first, "EmuTest", TestStores.Vendor, NvBsRt, [2, 2]);

        Assert.Equal("mark the old copy VAR_IN_DELETED_TRANSITION", edit.Writes[0].Step);
        Assert.Equal(VariableState.AddedInTransition, edit.Writes[0].Bytes[0]);
        Assert.Equal("mark the old copy VAR_DELETED", edit.Writes[^1].Step);
        var image = VarstoreImage.Parse(edit.Result);
        Assert.Equal(2, image.Records.Count);
        Assert.True(VariableState.IsDeleted(image.Records[0].State));
        Assert.Equal(0x3C, image.Records[0].State);
        Assert.Equal(new byte[] { 2, 2 }, Assert.Single(image.LiveVariables).Data.ToArray());
        Assert.Equal(image.Records[0].AlignedLength, image.ReclaimableBytes);
    }

    [Fact]
    public void AnInterruptedReplaceLeavesTheOldCopyLive()
    {
        byte[] first = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars), "EmuTest", TestStores.Vendor, NvBsRt, [1]).Result;
        var edit = VarstoreEditor.Set(first, "EmuTest", TestStores.Vendor, NvBsRt, [2]);

        // Power lost after any of the writes: before State = VAR_ADDED the old value is the live one.
        for (int stop = 0; stop <= edit.Writes.Count; stop++)
        {
            byte[] partial = (byte[])first.Clone();
            foreach (var w in edit.Writes.Take(stop))
            {
                w.Bytes.CopyTo(partial, w.Offset);
            }

            var image = VarstoreImage.Parse(partial);
            Assert.True(image.IsValid, $"after {stop} writes: " + string.Join("; ", image.Errors));
            var live = Assert.Single(image.LiveVariables);
            Assert.Equal(stop >= 5 ? [2] : new byte[] { 1 }, live.Data.ToArray());
        }
    }

    [Fact]
    public void DeleteClearsTheDeletedBitAndUnchangedDataWritesNothing()
    {
        byte[] store = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars4M), "EmuTest", TestStores.Vendor, NvBsRt, [7]).Result;

        Assert.Empty(VarstoreEditor.Set(store, "EmuTest", TestStores.Vendor, NvBsRt, [7]).Writes);
        var delete = VarstoreEditor.Delete(store, "EmuTest", TestStores.Vendor);
        var write = Assert.Single(delete.Writes);
        Assert.Equal(0x66, write.Offset);
        Assert.Equal(0x3D, write.Bytes[0]);
        Assert.Empty(VarstoreImage.Parse(delete.Result).LiveVariables);
        var missing = Assert.Throws<VarstoreException>(() => VarstoreEditor.Delete(delete.Result, "EmuTest", TestStores.Vendor));
        Assert.StartsWith("no variable 'EmuTest'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFullStoreIsRefusedWithTheNumbers()
    {
        byte[] store = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        store = VarstoreEditor.Set(store, "Big", TestStores.Vendor, NvBsRt, new byte[0xD000]).Result;

        var e = Assert.Throws<VarstoreException>(() => VarstoreEditor.Set(store, "More", TestStores.Vendor, NvBsRt, new byte[0x1000]));
        Assert.StartsWith("the store is full: the record needs 4168 bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VariableAttributes.BootServiceAccess, "include 'nv'")]
    [InlineData(VariableAttributes.NonVolatile | VariableAttributes.RuntimeAccess, "'rt' needs 'bs'")]
    [InlineData(VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess | VariableAttributes.TimeBasedAuthenticatedWriteAccess, "authenticated")]
    public void AttributesTheFirmwareWouldRejectAreRefused(VariableAttributes attributes, string reason)
    {
        var e = Assert.Throws<VarstoreException>(() => VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars), "X", TestStores.Vendor, attributes, [1]));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChangingAttributesOrWritingAnInvalidStoreIsRefused()
    {
        byte[] store = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars), "EmuTest", TestStores.Vendor, NvBsRt, [1]).Result;
        var attrs = Assert.Throws<VarstoreException>(() => VarstoreEditor.Set(store, "EmuTest", TestStores.Vendor, VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess, [1]));
        Assert.Contains("refuses to change attributes", attrs.Message, StringComparison.Ordinal);

        store[0x32] ^= 1;
        var invalid = Assert.Throws<VarstoreException>(() => VarstoreEditor.Set(store, "Other", TestStores.Vendor, NvBsRt, [1]));
        Assert.StartsWith("not a valid varstore (at 0x32: FV header checksum", invalid.Message, StringComparison.Ordinal);
    }
}
