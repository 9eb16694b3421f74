using Emulator.Firmware.Varstore;

namespace Emulator.Firmware.Tests.Varstore;

[Trait("Category", "Fixture")]
public class VarstoreConverterTests
{
    private const VariableAttributes NvBs = VariableAttributes.NonVolatile | VariableAttributes.BootServiceAccess;

    [Fact]
    public void RoundTripBetweenLayoutsKeepsTheLiveVariablesAndDropsDeletedOnes()
    {
        byte[] small = FirmwareFixtures.Load(FirmwareFixtures.Vars);
        small = VarstoreEditor.Set(small, "First", TestStores.Vendor, NvBs, [1, 2, 3]).Result;
        small = VarstoreEditor.Set(small, "Gone", TestStores.Vendor, NvBs, [9]).Result;
        small = VarstoreEditor.Set(small, "First", TestStores.Vendor, NvBs, [4, 5, 6, 7]).Result;
        small = VarstoreEditor.Delete(small, "Gone", TestStores.Vendor).Result;
        small = VarstoreEditor.Set(small, "Lang", VariableGuids.EfiGlobalVariable, NvBs | VariableAttributes.RuntimeAccess, "eng"u8.ToArray()).Result;

        var up = VarstoreConverter.Convert(small, FirmwareFixtures.Load(FirmwareFixtures.Vars4M));
        Assert.Equal(0x84000, up.Store.Length);
        Assert.Equal(2, up.Variables);
        var big = VarstoreImage.Parse(up.Store);
        Assert.True(big.IsValid, string.Join("; ", big.Errors));
        Assert.Equal(["First", "Lang"], big.Records.Select(r => r.Name));
        Assert.All(big.Records, r => Assert.True(r.IsLive));
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, big.Find("First", TestStores.Vendor)!.Data.ToArray());

        // Everything outside the record area is the template's: FV header, store header, FTW.
        byte[] template = FirmwareFixtures.Load(FirmwareFixtures.Vars4M);
        Assert.Equal(template[..0x64], up.Store[..0x64]);
        Assert.Equal(template[0x40000..], up.Store[0x40000..]);

        var down = VarstoreConverter.Convert(up.Store, FirmwareFixtures.Load(FirmwareFixtures.Vars));
        var back = VarstoreImage.Parse(down.Store);
        Assert.Equal(big.Records.Select(r => (r.Name, r.VendorGuid, r.Attributes, Convert.ToHexString(r.Data.Span))),
            back.Records.Select(r => (r.Name, r.VendorGuid, r.Attributes, Convert.ToHexString(r.Data.Span))));
    }

    [Fact]
    public void VariablesThatDoNotFitAreRefused()
    {
        byte[] big = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars4M), "Huge", TestStores.Vendor, NvBs, new byte[0x10000]).Result;

        var e = Assert.Throws<VarstoreException>(() => VarstoreConverter.Convert(big, FirmwareFixtures.Load(FirmwareFixtures.Vars)));
        Assert.Equal("the source's 1 live variables need 65608 bytes but the template's store holds 57244: they do not fit", e.Message);
    }

    [Fact]
    public void APaddedStoreCanBeRescued()
    {
        byte[] small = VarstoreEditor.Set(FirmwareFixtures.Load(FirmwareFixtures.Vars), "Keep", TestStores.Vendor, NvBs, [42]).Result;
        byte[] padded = small.Concat(Enumerable.Repeat((byte)0xFF, 0x64000)).ToArray();

        var result = VarstoreConverter.Convert(padded, FirmwareFixtures.Load(FirmwareFixtures.Vars4M));
        Assert.Contains(result.Notes, n => n.StartsWith("source problem ignored: at 0x20: padded", StringComparison.Ordinal));
        Assert.Equal([42], VarstoreImage.Parse(result.Store).Find("Keep", TestStores.Vendor)!.Data.ToArray());
    }
}
