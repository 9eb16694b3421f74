namespace Emulator.Firmware.Tests;

[Trait("Category", "Fixture")]
public class FirmwareVolumeTests
{
    // FvName GUIDs from OvmfPkg's FDF files: FVMAIN_COMPACT, PEIFV, DXEFV, SECFV.
    private static readonly Guid s_mainCompact = new("48DB5E17-707C-472D-91CD-1613E7EF51B0");
    private static readonly Guid s_peiFv = new("6938079B-B503-4E3D-9D24-B28337A25806");
    private static readonly Guid s_dxeFv = new("7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1");
    private static readonly Guid s_secFv = new("763BED0D-DE9F-48F5-81F1-3E90E1B1A015");

    [Theory]
    [InlineData(FirmwareFixtures.Code, 0x0, 0x1AC000)]
    [InlineData(FirmwareFixtures.Code4M, 0x0, 0x348000)]
    public void CodeImagesHoldMainCompactThenSecFv(string fixture, long mainOffset, long secFvOffset)
    {
        FirmwareImage image = FirmwareFixtures.Parse(fixture);

        Assert.Equal(2, image.Volumes.Count);
        Assert.Equal(mainOffset, image.Volumes[0].Offset);
        Assert.Equal(s_mainCompact, image.Volumes[0].Name);
        Assert.Equal(secFvOffset, image.Volumes[1].Offset);
        Assert.Equal(s_secFv, image.Volumes[1].Name);
        Assert.Equal(image.Length, image.Volumes[1].Offset + image.Volumes[1].Length);
        AssertWellFormedFfs2(image.Volumes);
    }

    [Fact]
    public void UnifiedImageStartsWithTheVariableStore()
    {
        FirmwareImage image = FirmwareFixtures.Parse(FirmwareFixtures.Unified);

        Assert.Equal(3, image.Volumes.Count);
        FirmwareVolume varStore = image.Volumes[0];
        Assert.Equal(FirmwareGuids.SystemNvDataFv, varStore.FileSystemGuid);
        Assert.Equal(0x20000, varStore.Length);
        Assert.True(varStore.ChecksumValid);
        Assert.Empty(varStore.Files);
        Assert.Null(varStore.Name);
        Assert.Equal([s_mainCompact, s_secFv], image.Volumes.Skip(1).Select(v => v.Name!.Value));
        AssertWellFormedFfs2(image.Volumes.Skip(1));
    }

    [Theory]
    [InlineData(FirmwareFixtures.Vars, 0x20000)]
    [InlineData(FirmwareFixtures.Vars4M, 0x84000)]
    public void VarsImagesAreOneVariableStoreVolume(string fixture, long length)
    {
        FirmwareImage image = FirmwareFixtures.Parse(fixture);

        FirmwareVolume volume = Assert.Single(image.Volumes);
        Assert.Equal(FirmwareGuids.SystemNvDataFv, volume.FileSystemGuid);
        Assert.Equal(length, volume.Length);
        Assert.True(volume.ChecksumValid);
        Assert.True(volume.ErasePolarity);
        Assert.NotEmpty(volume.BlockMap);
        Assert.Equal(length, volume.BlockMap.Sum(b => (long)b.NumBlocks * b.BlockLength));
    }

    [Theory]
    [InlineData(FirmwareFixtures.Code)]
    [InlineData(FirmwareFixtures.Code4M)]
    [InlineData(FirmwareFixtures.Unified)]
    public void MainCompactInflatesIntoPeiAndDxeVolumes(string fixture)
    {
        FirmwareImage image = FirmwareFixtures.Parse(fixture);
        FirmwareVolume mainCompact = image.Volumes.Single(v => v.Name == s_mainCompact);

        FfsFile file = Assert.Single(mainCompact.Files);
        Assert.Equal(FfsFileType.FirmwareVolumeImage, file.Type);
        FirmwareSection lzma = Assert.Single(file.Sections);
        Assert.Equal(FirmwareSectionType.GuidDefined, lzma.Type);
        Assert.Equal(FirmwareGuids.LzmaCustomDecompress, lzma.SectionGuid);
        Assert.True(lzma.IsDecoded);
        List<FirmwareVolume> nested = lzma.Children.Where(c => c.Volume is not null).Select(c => c.Volume!).ToList();
        Assert.Equal([s_peiFv, s_dxeFv], nested.Select(v => v.Name!.Value));
        Assert.All(nested, v => Assert.Null(v.ImageOffset));
        AssertWellFormedFfs2(nested);
        Assert.Equal(image.Volumes.Count + 2, image.EnumerateVolumes().Count());
        Assert.Empty(image.Diagnostics);
    }

    [Fact]
    public void NoOvmfVolumeUsesFfs3()
    {
        foreach (string fixture in new[] { FirmwareFixtures.Code, FirmwareFixtures.Code4M, FirmwareFixtures.Unified })
        {
            Assert.DoesNotContain(FirmwareFixtures.Parse(fixture).EnumerateVolumes(), v => v.FileSystemGuid == FirmwareGuids.FirmwareFileSystem3);
        }
    }

    private static void AssertWellFormedFfs2(IEnumerable<FirmwareVolume> volumes)
    {
        foreach (FirmwareVolume volume in volumes)
        {
            Assert.Equal(FirmwareGuids.FirmwareFileSystem2, volume.FileSystemGuid);
            Assert.True(volume.ChecksumValid, $"{volume} header checksum");
            Assert.Equal(2, volume.Revision);
            Assert.NotEmpty(volume.Files);
            Assert.All(volume.Files, f => Assert.True(f.State.HasFlag(FfsFileState.DataValid), $"{f} state {f.State}"));
        }
    }
}
