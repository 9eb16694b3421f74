using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary><c>inspect</c> on the three Debian images and a varstore.</summary>
[Trait("Category", "Fixture")]
public class InspectCommandTests
{
    [Fact]
    public void UnifiedImageShowsTheVarstoreTheDecodedVolumesAndTheModules()
    {
        var r = CliRunner.Run("inspect", Fixtures.Path(Fixtures.Unified));

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("3 volumes, 127 PE/TE modules", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("FV 0x0 NvData (variable store) size 0x20000 attributes 0x0004FEFF header 0x48 checksum ok blocks 32x0x1000", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("variable store: authenticated, size 0xDFB8, 0 live of 0 records", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("GuidDefined 0x17153C LZMA ee4e5898-3914-4259-9d6e-dc7bd79403cf decoded", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("FV (in decoded section) FFS2", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("PeiCore \"PeiCore\" at 0xE8 size 0x613A state valid", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Pe32 0x60C4 Pe32Plus Amd64 base 0x820140 entry 0x825A8A size 0x60C0", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("SecurityCore \"SecMain\" at 0x78 size 0x8F7E state valid", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Fixtures.Code2M)]
    [InlineData(Fixtures.Code4M)]
    public void JsonTreeOfTheCodeImages(string code)
    {
        var r = CliRunner.Run("inspect", Fixtures.Path(code), "--json");
        Assert.Equal(0, r.ExitCode);
        var root = JsonDocument.Parse(r.Stdout).RootElement;

        var volumes = root.GetProperty("volumes").EnumerateArray().ToList();
        Assert.All(volumes, v => Assert.True(v.GetProperty("headerChecksumValid").GetBoolean()));
        var files = Descend(root).Where(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out _) && e.TryGetProperty("guid", out _) && e.TryGetProperty("state", out _)).ToList();
        var fvb = Assert.Single(files, f => f.GetProperty("name").GetString() == "FvbServicesRuntimeDxe");
        Assert.Equal("Driver", fvb.GetProperty("type").GetString());
        Assert.Equal("valid", fvb.GetProperty("state").GetString());
        var image = Descend(fvb).Single(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("image", out var i) && i.ValueKind == JsonValueKind.Object).GetProperty("image");
        Assert.Equal("Amd64", image.GetProperty("machine").GetString());
        Assert.Equal(root.GetProperty("modules").GetInt32(), Descend(root).Count(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("image", out var i) && i.ValueKind == JsonValueKind.Object));
    }

    [Fact]
    public void AVarstoreAndBadInput()
    {
        var vars = CliRunner.Run("inspect", Fixtures.Path(Fixtures.Vars4M));
        Assert.Equal(0, vars.ExitCode);
        Assert.Contains("variable store: authenticated, size 0x3FFB8", vars.Stdout, StringComparison.Ordinal);

        using var junk = new TempCopy(new byte[0x1000]);
        var bad = CliRunner.Run("inspect", junk.Path);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("is not a firmware image: no firmware volume", bad.Stderr, StringComparison.Ordinal);
    }

    private static IEnumerable<JsonElement> Descend(JsonElement e)
    {
        yield return e;
        IEnumerable<JsonElement> children = e.ValueKind switch
        {
            JsonValueKind.Object => e.EnumerateObject().Select(p => p.Value),
            JsonValueKind.Array => e.EnumerateArray(),
            _ => [],
        };
        foreach (var c in children.SelectMany(Descend))
        {
            yield return c;
        }
    }
}
