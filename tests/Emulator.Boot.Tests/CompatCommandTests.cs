namespace Emulator.Boot.Tests;

/// <summary><c>compat</c> and the check <c>boot</c> makes first: every mismatch case of issue 5.</summary>
[Trait("Category", "Fixture")]
public class CompatCommandTests
{
    [Theory]
    [InlineData(Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData(Fixtures.Code4M, Fixtures.Vars4M)]
    public void MatchingPairs(string code, string vars)
    {
        var r = CliRunner.Run("compat", "--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars));
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("compatible:", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.ms.fd")]
    [InlineData("OVMF_CODE.secboot.fd", "OVMF_VARS.ms.fd")]
    public void SmmBuildsWithTheirEnrolledStores(string code, string vars)
    {
        var r = CliRunner.Run("compat", "--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars));
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("compatible:", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("the FV header template in FvbServicesSmm", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("an SMM build:", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SmallVarsBigCode()
    {
        var r = CliRunner.Run("compat", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", Fixtures.Path(Fixtures.Vars2M));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("this code expects a 528 KiB varstore at 0xFFC00000; this 128 KiB file would be mapped at 0xFFC64000", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("every variable change will be lost at power-off", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("fix: emu vars convert", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void BigVarsSmallCode()
    {
        var r = CliRunner.Run("compat", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", Fixtures.Path(Fixtures.Vars4M), "--json");
        Assert.Equal(1, r.ExitCode);
        var root = System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement;
        Assert.False(root.GetProperty("compatible").GetBoolean());
        Assert.Equal("0xFFE00000", root.GetProperty("expected").GetProperty("base").GetString());
        Assert.Equal("0xFFD9C000", root.GetProperty("vars").GetProperty("mappedAt").GetString());
    }

    public static TheoryData<string, string, string> DamagedStores() => new()
    {
        { "padded", Fixtures.Code4M, "padded or truncated store" },
        { "truncated", Fixtures.Code2M, "padded or truncated store" },
        { "blank-ff", Fixtures.Code2M, "blank (all 0xFF)" },
        { "blank-00", Fixtures.Code2M, "every byte is 0x00" },
        { "foreign", Fixtures.Code2M, "not an OVMF variable store" },
    };

    [Theory]
    [MemberData(nameof(DamagedStores))]
    public void DamagedOrForeignStores(string kind, string code, string consequence)
    {
        byte[] bytes = kind switch
        {
            "padded" => [.. File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M)), .. Enumerable.Repeat((byte)0xFF, 0x64000)],
            "truncated" => File.ReadAllBytes(Fixtures.Path(Fixtures.Vars4M))[..0x20000],
            "blank-ff" => Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(),
            "blank-00" => new byte[0x20000],
            _ => ForeignVolume(),
        };
        using var vars = new TempCopy(bytes);

        var r = CliRunner.Run("compat", "--code", Fixtures.Path(code), "--vars", vars.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(consequence, r.Stdout, StringComparison.Ordinal);
        Assert.Equal(bytes, vars.Bytes);
    }

    [Fact]
    public void ACodeImageThatIsNotOvmfIsBadInput()
    {
        using var code = new TempCopy(new byte[0x10000]);
        var r = CliRunner.Run("compat", "--code", code.Path, "--vars", Fixtures.Path(Fixtures.Vars2M));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is not a UEFI firmware image", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AUnifiedImageAsCodeIsBadInput()
    {
        var r = CliRunner.Run("compat", "--code", Fixtures.Path(Fixtures.Unified), "--vars", Fixtures.Path(Fixtures.Vars2M));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is a unified image with its own varstore inside", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BootRefusesAMismatchAndForceRunsInSnapshotMode()
    {
        using var vars = new TempCopy(Fixtures.Vars2M);
        var refused = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", vars.Path, "--max-instructions", "1000");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("INCOMPATIBLE", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("emu: boot refused: this VARS file does not fit this code build", refused.Stderr, StringComparison.Ordinal);

        var forced = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code4M), "--vars", vars.Path, "--max-instructions", "1000", "--force");
        Assert.Equal(1, forced.ExitCode);
        Assert.Contains("booting the mismatched pair in snapshot mode", forced.Stderr, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M)), vars.Bytes);
    }

    /// <summary>A well-formed firmware volume of another kind (FFS2, random content) in place of a varstore.</summary>
    private static byte[] ForeignVolume()
    {
        byte[] bytes = new byte[0x20000];
        new Random(99).NextBytes(bytes);
        byte[] ffsHeader = File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M))[..0x48];
        ffsHeader.CopyTo(bytes, 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(0x20), 0x20000UL);
        return bytes;
    }
}
