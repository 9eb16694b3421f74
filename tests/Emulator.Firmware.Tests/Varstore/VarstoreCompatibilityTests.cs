using Emulator.Firmware.Varstore;

namespace Emulator.Firmware.Tests.Varstore;

[Trait("Category", "Fixture")]
public class VarstoreCompatibilityTests
{
    [Theory]
    [InlineData(FirmwareFixtures.Code, 0x20000, 0xFFE00000u, 0xDFB8)]
    [InlineData(FirmwareFixtures.Code4M, 0x84000, 0xFFC00000u, 0x3FFB8)]
    public void TheCodeImageNamesTheVarstoreItExpects(string code, long size, uint expectedBase, int storeSize)
    {
        var expected = VarstoreExpectation.FromCode(FirmwareFixtures.Parse(code));

        Assert.NotNull(expected);
        Assert.Equal(size, expected.VarsSize);
        Assert.Equal(expectedBase, expected.Base);
        Assert.True(expected.BaseConfirmed);
        Assert.Equal(VarstoreExpectation.FvbDriverName, expected.Source);
        Assert.Equal(storeSize, expected.StoreSize);
        Assert.Equal(new FvBlockMapEntry((uint)(size / 0x1000), 0x1000), Assert.Single(expected.BlockMap));
        Assert.False(expected.Smm);
    }

    [Theory]
    [InlineData("OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.ms.fd", 0x84000, 0xFFC00000u)]
    [InlineData("OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.snakeoil.fd", 0x84000, 0xFFC00000u)]
    [InlineData("OVMF_CODE.secboot.fd", "OVMF_VARS.ms.fd", 0x20000, 0xFFE00000u)]
    public void SmmBuildsFitTheirEnrolledStores(string code, string vars, long size, uint expectedBase)
    {
        var expected = VarstoreExpectation.FromCode(FirmwareFixtures.Parse(code))!;
        var verdict = VarstoreCompatibility.Check(expected, FirmwareFixtures.Load(vars));

        Assert.True(expected.Smm);
        Assert.Equal("FvbServicesSmm", expected.Source);
        Assert.Equal(size, expected.VarsSize);
        Assert.Equal(expectedBase, expected.Base);
        Assert.True(expected.BaseConfirmed);
        Assert.True(verdict.Compatible, string.Join("; ", verdict.Findings));
        Assert.Contains(verdict.Findings, f => f.StartsWith("an SMM build: ", StringComparison.Ordinal) && f.Contains("--machine q35 --secure-flash", StringComparison.Ordinal));
        Assert.NotNull(verdict.Vars.Find("PK", VariableGuids.EfiGlobalVariable));
        Assert.NotNull(verdict.Vars.Find("dbx", VariableGuids.ImageSecurityDatabase));
    }

    [Fact]
    public void SmallVarsWithBigSmmCodeStopTheBootInsteadOfFallingBackToRam()
    {
        var verdict = Check("OVMF_CODE_4M.secboot.fd", FirmwareFixtures.Load("OVMF_VARS.ms.fd"));

        Assert.False(verdict.Compatible);
        Assert.StartsWith("this code expects a 528 KiB varstore at 0xFFC00000; this 128 KiB file would be mapped at 0xFFC64000: the firmware will not find it", verdict.Findings[0], StringComparison.Ordinal);
        Assert.Contains("no variable store in RAM to fall back on", verdict.Findings[0], StringComparison.Ordinal);
        Assert.Contains("CPU exception (#UD) in DXE", verdict.Findings[0], StringComparison.Ordinal);
        Assert.DoesNotContain("lost at power-off", verdict.Findings[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FirmwareFixtures.Code, FirmwareFixtures.Vars)]
    [InlineData(FirmwareFixtures.Code4M, FirmwareFixtures.Vars4M)]
    public void MatchingPairsAreCompatible(string code, string vars)
    {
        var verdict = Check(code, FirmwareFixtures.Load(vars));

        Assert.True(verdict.Compatible, string.Join("; ", verdict.Findings));
        Assert.StartsWith("compatible:", verdict.Findings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void SmallVarsWithBigCodeLoseEveryWrite()
    {
        var verdict = Check(FirmwareFixtures.Code4M, FirmwareFixtures.Load(FirmwareFixtures.Vars));

        Assert.False(verdict.Compatible);
        Assert.Equal(0xFFC64000UL, verdict.MappedBase);
        Assert.StartsWith("this code expects a 528 KiB varstore at 0xFFC00000; this 128 KiB file would be mapped at 0xFFC64000: the firmware will not find it", verdict.Findings[0], StringComparison.Ordinal);
        Assert.Contains("lost at power-off", verdict.Findings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void BigVarsWithSmallCodeAreDamaged()
    {
        var verdict = Check(FirmwareFixtures.Code, FirmwareFixtures.Load(FirmwareFixtures.Vars4M));

        Assert.False(verdict.Compatible);
        Assert.Equal(0xFFD9C000UL, verdict.MappedBase);
        Assert.Contains("reads its store 0x64000 bytes into the file (inside its fault-tolerant-write spare area)", verdict.Findings[0], StringComparison.Ordinal);
        Assert.Contains("erases and rewrites", verdict.Findings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void PaddedAndTruncatedStoresAreErased()
    {
        byte[] padded = FirmwareFixtures.Load(FirmwareFixtures.Vars).Concat(Enumerable.Repeat((byte)0xFF, 0x64000)).ToArray();
        byte[] truncated = FirmwareFixtures.Load(FirmwareFixtures.Vars4M)[..0x20000];

        var p = Check(FirmwareFixtures.Code4M, padded);
        var t = Check(FirmwareFixtures.Code, truncated);
        Assert.False(p.Compatible);
        Assert.Contains("the volume inside is 128 KiB (FvLength, a padded or truncated store)", p.Findings[0], StringComparison.Ordinal);
        Assert.False(t.Compatible);
        Assert.Contains("the volume inside is 528 KiB", t.Findings[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0xFF, "blank (all 0xFF): the firmware formats a new, empty store")]
    [InlineData(0x00, "every byte is 0x00")]
    public void BlankStores(byte fill, string consequence)
    {
        var bytes = new byte[0x84000];
        Array.Fill(bytes, fill);

        var verdict = Check(FirmwareFixtures.Code4M, bytes);
        Assert.False(verdict.Compatible);
        Assert.Contains(consequence, verdict.Findings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void AStoreOfAnotherFamilyIsRefused()
    {
        var verdict = Check(FirmwareFixtures.Code, TestStores.ForeignVolume(0x20000));

        Assert.False(verdict.Compatible);
        Assert.Contains("not an OVMF variable store", verdict.Findings[0], StringComparison.Ordinal);
        Assert.Contains("stops at a CPU exception", verdict.Findings[0], StringComparison.Ordinal);
    }

    private static VarstoreCompatibility.Verdict Check(string code, byte[] vars) =>
        VarstoreCompatibility.Check(VarstoreExpectation.FromCode(FirmwareFixtures.Parse(code))!, vars);
}
