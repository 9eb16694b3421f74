using System.Diagnostics;

namespace Emulator.Firmware.Tests;

[Trait("Category", "Fixture")]
public class ModuleTests
{
    [Theory]
    [InlineData(FirmwareFixtures.Code)]
    [InlineData(FirmwareFixtures.Code4M)]
    [InlineData(FirmwareFixtures.Unified)]
    public void ModuleListNamesTheBootPathModules(string fixture)
    {
        FirmwareImage image = FirmwareFixtures.Parse(fixture);
        HashSet<string?> names = image.Modules.Select(m => m.Name).ToHashSet();

        foreach (string expected in new[] { "SecMain", "PeiCore", "PcdPeim", "PlatformPei", "DxeIpl", "DxeCore", "CpuDxe", "BdsDxe", "VariableRuntimeDxe", "Shell" })
        {
            Assert.Contains(expected, names);
        }

        Assert.True(image.Modules.Count > 100, $"only {image.Modules.Count} modules");
        Assert.All(image.Modules, m => Assert.True(m.ImageEnd > m.ImageStart, $"{m} has an empty image"));
    }

    [Theory]
    [InlineData(FirmwareFixtures.Code, PeMachine.Amd64)]
    [InlineData(FirmwareFixtures.Code4M, PeMachine.I386)]
    public void PeiModulesAreRebasedIntoThePeiVolumeInRam(string fixture, PeMachine machine)
    {
        FirmwareImage image = FirmwareFixtures.Parse(fixture);

        List<FirmwareModule> pei = image.Modules.Where(m => m.Type is FfsFileType.PeiCore or FfsFileType.Peim).ToList();

        Assert.NotEmpty(pei);
        Assert.All(pei, m =>
        {
            Assert.Equal(machine, m.Image.Machine);
            Assert.InRange(m.ImageStart, 0x800000UL, 0x1000000UL - 1);
            Assert.InRange(m.EntryAddress, m.ImageStart, m.ImageEnd - 1);
        });
    }

    [Fact]
    public void DxeModulesOf4MBuildAreX64()
    {
        FirmwareImage image = FirmwareFixtures.Parse(FirmwareFixtures.Code4M);

        Assert.All(image.Modules.Where(m => m.Type is FfsFileType.Driver or FfsFileType.DxeCore or FfsFileType.Application),
            m => Assert.Equal(PeMachine.Amd64, m.Image.Machine));
    }

    /// <summary>
    /// A guard against pathological slowness (a decoder gone quadratic), not a benchmark: the parse
    /// takes ≈0.15 s unloaded, the bound is generous so a loaded 2-core CI machine never trips it.
    /// Speed itself is measured by BenchmarkDotNet (docs/performance.md).
    /// </summary>
    [Fact]
    public void ParsingThe4MImageIsNotPathologicallySlow()
    {
        byte[] bytes = FirmwareFixtures.Load(FirmwareFixtures.Code4M);
        FirmwareImage.Parse(bytes);

        var stopwatch = Stopwatch.StartNew();
        FirmwareImage image = FirmwareImage.Parse(bytes);
        stopwatch.Stop();

        Assert.NotEmpty(image.Modules);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"parse took {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
    }
}
