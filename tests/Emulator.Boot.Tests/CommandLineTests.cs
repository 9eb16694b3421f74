namespace Emulator.Boot.Tests;

/// <summary>Bad input gets one clear line on stderr and exit status 2; the user's files are never touched.</summary>
[Trait("Category", "Fixture")]
public class CommandLineTests
{
    internal static void AssertUsageError(CliResult r, string expectedFragment)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("emu: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expectedFragment, lines[0], StringComparison.Ordinal);
        Assert.Equal(string.Empty, r.Stdout);
    }

    [Fact]
    public void UnknownOption() => AssertUsageError(CliRunner.Run("boot", "--frobnicate"), "unknown option --frobnicate");

    [Fact]
    public void UnknownCommand() => AssertUsageError(CliRunner.Run("fly"), "unknown command 'fly'");

    [Fact]
    public void MissingFile() => AssertUsageError(CliRunner.Run("boot", "--code", "/nonexistent/OVMF_CODE.fd"), "does not exist");

    [Fact]
    public void VarsWithoutCode() => AssertUsageError(CliRunner.Run("boot", "--vars", Fixtures.Path(Fixtures.Vars2M)), "pflash1 requires pflash0");

    [Fact]
    public void UnknownMilestone() => AssertUsageError(CliRunner.Run("boot", "--firmware", Fixtures.Path(Fixtures.Unified), "--until", "dxe9"), "unknown milestone 'dxe9'");

    [Fact]
    public void BadMemorySize() => AssertUsageError(CliRunner.Run("boot", "--firmware", Fixtures.Path(Fixtures.Unified), "--memory", "lots"), "memory size 'lots'");

    [Fact]
    public void ImageWithBadSizeIsRefusedWithQemusReasonAndLeftUntouched()
    {
        string path = CliRunner.TempFile(".fd");
        var bytes = new byte[0x1800];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        try
        {
            AssertUsageError(CliRunner.Run("boot", "--firmware", path), "its size must be a non-zero multiple of 0x1000");
            Assert.Equal(bytes, File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GarbageImageRunsAndReportsInsteadOfCrashing()
    {
        string path = CliRunner.TempFile(".fd");
        string report = CliRunner.TempFile(".json");
        var bytes = new byte[0x10000];
        new Random(2).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        try
        {
            var r = CliRunner.Run("boot", "--firmware", path, "--max-instructions", "100000", "--report", report, "--quiet");
            Assert.Equal(1, r.ExitCode);
            Assert.NotNull(r.Report);
            Assert.Equal(bytes, File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
            File.Delete(report);
        }
    }

    [Fact]
    public void UntilSecOnAnImageWithoutSecIsBadInput()
    {
        string path = CliRunner.TempFile(".fd");
        File.WriteAllBytes(path, new byte[0x10000]);
        try
        {
            AssertUsageError(CliRunner.Run("boot", "--firmware", path, "--until", "sec"), "milestone 'sec' cannot be located");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReportPathThatIsAnInputIsRefusedAndTheFileUntouched()
    {
        string vars = CliRunner.TempFile(".fd");
        File.Copy(Fixtures.Path(Fixtures.Vars2M), vars);
        var before = File.ReadAllBytes(vars);
        try
        {
            AssertUsageError(
                CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", vars, "--report", vars),
                "would overwrite a firmware input file");
            Assert.Equal(before, File.ReadAllBytes(vars));
        }
        finally
        {
            File.Delete(vars);
        }
    }

    [Fact]
    public void TraceIntoAMissingDirectoryIsBadInput() =>
        AssertUsageError(
            CliRunner.Run("boot", "--firmware", Fixtures.Path(Fixtures.Unified), "--trace", "/nonexistent-dir/t.trace"),
            "does not exist");
}
