using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary><c>vars</c> against the Debian fixtures (copies) and stores the tests damage themselves.</summary>
[Trait("Category", "Fixture")]
public class VarsCommandTests
{
    private const string Vendor = "3F6C1C1A-5E0B-4A57-9D2A-0B1D6E5A7C11";

    [Theory]
    [InlineData(Fixtures.Vars2M, "0xDFB8")]
    [InlineData(Fixtures.Vars4M, "0x3FFB8")]
    [InlineData(Fixtures.Unified, "0xDFB8")]
    public void ListAndCheckTheFixtures(string fixture, string storeSize)
    {
        var list = CliRunner.Run("vars", "list", Fixtures.Path(fixture));
        Assert.Equal(0, list.ExitCode);
        Assert.Contains($"authenticated variable store, {storeSize} bytes at 0x48; 0 live variables", list.Stdout, StringComparison.Ordinal);

        var check = CliRunner.Run("vars", "check", Fixtures.Path(fixture));
        Assert.Equal(0, check.ExitCode);
        Assert.Contains(": valid\n", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("FTW working block:", check.Stdout, StringComparison.Ordinal);
        Assert.Equal(fixture == Fixtures.Unified, check.Stdout.Contains("unified image", StringComparison.Ordinal));
    }

    [Fact]
    public void SetGetDeleteRoundTripEditsOnlyTheRecordAndKeepsTheFile()
    {
        using var store = new TempCopy(Fixtures.Vars4M);
        byte[] before = store.Bytes;

        // A handle opened before the edit sees the edit only if the file was changed in place (same inode).
        using var held = new FileStream(store.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

        var set = CliRunner.Run("vars", "set", store.Path, "EmuTest", "--guid", Vendor, "--data-hex", "48656c6c6f");
        Assert.Equal(0, set.ExitCode);
        Assert.Contains("'EmuTest' 3f6c1c1a-5e0b-4a57-9d2a-0b1d6e5a7c11 added: 5 bytes at 0x64, nv,bs,rt", set.Stdout, StringComparison.Ordinal);
        byte[] after = store.Bytes;
        var seen = new byte[after.Length];
        held.ReadExactly(seen);
        Assert.Equal(after, seen);
        Assert.Equal(before.Length, after.Length);
        Assert.Equal(before[..0x64], after[..0x64]);
        Assert.Equal(before[0xB8..], after[0xB8..]);

        Assert.Equal("48656c6c6f\n", CliRunner.Run("vars", "get", store.Path, "EmuTest", "--hex").Stdout);
        Assert.Equal("Hello", CliRunner.Run("vars", "get", store.Path, "EmuTest", "--guid", Vendor, "--raw").Stdout);
        Assert.Contains("00000000: 4865 6c6c 6f", CliRunner.Run("vars", "get", store.Path, "EmuTest").Stdout, StringComparison.Ordinal);

        var json = JsonDocument.Parse(CliRunner.Run("vars", "list", store.Path, "--json").Stdout).RootElement;
        var variable = Assert.Single(json.GetProperty("variables").EnumerateArray());
        Assert.Equal("nv,bs,rt", variable.GetProperty("attributes").GetString());
        Assert.Equal(5, variable.GetProperty("size").GetInt32());

        Assert.Equal(0, CliRunner.Run("vars", "delete", store.Path, "EmuTest", "--guid", Vendor).ExitCode);
        var gone = CliRunner.Run("vars", "get", store.Path, "EmuTest");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("no variable 'EmuTest'", gone.Stderr, StringComparison.Ordinal);
        Assert.Contains("deleted", CliRunner.Run("vars", "list", store.Path, "--all").Stdout, StringComparison.Ordinal);
        Assert.Equal(1, CliRunner.Run("vars", "delete", store.Path, "EmuTest", "--guid", Vendor).ExitCode);
    }

    [Fact]
    public void AFullStoreIsRefusedAndLeftUntouched()
    {
        using var data = new TempCopy(new byte[0xD000]);
        using var store = new TempCopy(Fixtures.Vars2M);
        Assert.Equal(0, CliRunner.Run("vars", "set", store.Path, "Big", "--guid", Vendor, "--data-file", data.Path).ExitCode);
        byte[] full = store.Bytes;

        var r = CliRunner.Run("vars", "set", store.Path, "More", "--guid", Vendor, "--data-file", data.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("emu: the store is full", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(full, store.Bytes);
    }

    [Theory]
    [InlineData(new[] { "set", "{0}", "X", "--data-hex", "01" }, "needs --guid")]
    [InlineData(new[] { "set", "{0}", "X", "--guid", "nope", "--data-hex", "01" }, "is not a GUID")]
    [InlineData(new[] { "set", "{0}", "X", "--guid", "global", "--data-hex", "0" }, "even number of hex digits")]
    [InlineData(new[] { "set", "{0}", "X", "--guid", "global", "--data-hex", "01", "--attributes", "nv,xx" }, "unknown attribute 'xx'")]
    [InlineData(new[] { "set", "{0}", "X", "--guid", "global", "--data-hex", "01", "--attributes", "nv,rt" }, "'rt' needs 'bs'")]
    [InlineData(new[] { "get", "{0}" }, "missing VARS file and variable NAME")]
    [InlineData(new[] { "frob", "{0}" }, "unknown vars subcommand 'frob'")]
    public void BadInputIsOneLineAndTouchesNothing(string[] args, string reason)
    {
        using var store = new TempCopy(Fixtures.Vars2M);
        byte[] before = store.Bytes;
        var r = CliRunner.Run(["vars", .. args.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, a, store.Path))]);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(reason, Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Equal(before, store.Bytes);
    }

    [Fact]
    public void CheckNamesWhatIsWrong()
    {
        byte[] bytes = File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M));
        bytes[0x32] ^= 1;
        using var damaged = new TempCopy(bytes);
        using var blank = new TempCopy(Enumerable.Repeat((byte)0xFF, 0x20000).ToArray());

        var d = CliRunner.Run("vars", "check", damaged.Path);
        Assert.Equal(1, d.ExitCode);
        Assert.Contains("INVALID", d.Stdout, StringComparison.Ordinal);
        Assert.Contains("reject 0x32: FV header checksum is wrong", d.Stdout, StringComparison.Ordinal);
        Assert.Contains("\nverdict: the firmware would reject it (1 problem at 0x32)", d.Stdout, StringComparison.Ordinal);
        var b = CliRunner.Run("vars", "check", blank.Path, "--json");
        Assert.Equal(1, b.ExitCode);
        Assert.False(JsonDocument.Parse(b.Stdout).RootElement.GetProperty("isValid").GetBoolean());
        Assert.Equal(2, CliRunner.Run("vars", "check", "/nonexistent/VARS.fd").ExitCode);
        Assert.Equal(2, CliRunner.Run("vars", "list", blank.Path).ExitCode);
    }

    /// <summary>
    /// Issue 15: a CRC-valid FTW header claiming a WriteQueueSize of 0xFFFFFFFFFFFFFFF0 made every
    /// command die with an ArgumentOutOfRangeException. Now check names it (exit 1: the firmware
    /// rewrites the working block) and the other commands read the store as usual.
    /// </summary>
    [Fact]
    public void AnImpossibleFtwQueueSizeIsAFindingNotACrash()
    {
        byte[] bytes = File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0xF018), 0xFFFF_FFFF_FFFF_FFF0);
        byte[] header = bytes.AsSpan(0xF000, 0x20).ToArray();
        header.AsSpan(16, 5).Fill(0xFF);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0xF010), Emulator.Firmware.Varstore.Crc32.Compute(header));
        using var store = new TempCopy(bytes);

        var check = CliRunner.Run("vars", "check", store.Path);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("repair 0xF018: FTW WriteQueueSize 0xFFFFFFFFFFFFFFF0 is not 0xFE0", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("verdict: the firmware would repair it at its next boot (1 problem at 0xF018)", check.Stdout, StringComparison.Ordinal);
        var json = JsonDocument.Parse(CliRunner.Run("vars", "check", store.Path, "--json").Stdout).RootElement;
        Assert.Equal("repair", json.GetProperty("verdict").GetString());
        Assert.Equal("0xF018", json.GetProperty("issues")[0].GetProperty("offset").GetString());

        var runs = new[]
        {
            CliRunner.Run("vars", "list", store.Path),
            CliRunner.Run("inspect", store.Path),
            CliRunner.Run("compat", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", store.Path),
        };
        Assert.All(runs, r => Assert.Equal(0, r.ExitCode));
        Assert.All(runs, r => Assert.DoesNotContain("Exception", r.Stdout + r.Stderr, StringComparison.Ordinal));
        Assert.Contains("the firmware will repair: at 0xF018: FTW WriteQueueSize", runs[2].Stdout, StringComparison.Ordinal);
        Assert.Equal(bytes, store.Bytes);
    }

    [Fact]
    public void ABrokenStartIdNamesTheRecordsTheReclaimWillDropAndEditsAreRefused()
    {
        using var store = new TempCopy(Fixtures.Vars2M);
        foreach (string name in new[] { "EmuBefore", "EmuMiddle", "EmuAfter" })
        {
            Assert.Equal(0, CliRunner.Run("vars", "set", store.Path, name, "--guid", Vendor, "--data-hex", "01").ExitCode);
        }

        byte[] bytes = store.Bytes;
        bytes[0xB8] = 0x55; // EmuMiddle's StartId 0x55AA → 0x5555
        File.WriteAllBytes(store.Path, bytes);

        var check = CliRunner.Run("vars", "check", store.Path, "--json");
        Assert.Equal(1, check.ExitCode);
        var json = JsonDocument.Parse(check.Stdout).RootElement;
        Assert.Equal("repair", json.GetProperty("verdict").GetString());
        var issue = Assert.Single(json.GetProperty("issues").EnumerateArray());
        Assert.Equal(("0xB8", "repair"), (issue.GetProperty("offset").GetString(), issue.GetProperty("class").GetString()));
        Assert.Contains("StartId 0x5555, not 0x55AA", issue.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(["EmuAfter"], json.GetProperty("lostRecords").EnumerateArray().Select(r => r.GetProperty("name").GetString()));

        var list = CliRunner.Run("vars", "list", store.Path);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("note: the firmware would repair this store at its next boot; 'emu vars check", list.Stdout, StringComparison.Ordinal);

        var set = CliRunner.Run("vars", "set", store.Path, "More", "--guid", Vendor, "--data-hex", "01");
        Assert.Equal(2, set.ExitCode);
        Assert.Contains("the store needs the firmware's repair first (at 0xB8:", set.Stderr, StringComparison.Ordinal);
        Assert.Equal(bytes, store.Bytes);
    }

    [Fact]
    public void ConvertRefusesToOverwriteAndToOverfill()
    {
        using var source = new TempCopy(Fixtures.Vars2M);
        using var existing = new TempCopy([1, 2, 3]);
        Assert.Equal(0, CliRunner.Run("vars", "set", source.Path, "EmuTest", "--guid", Vendor, "--data-hex", "01").ExitCode);

        var refused = CliRunner.Run("vars", "convert", "--from", source.Path, "--template", Fixtures.Path(Fixtures.Vars4M), "-o", existing.Path);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("exists: give --force", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], existing.Bytes);

        var forced = CliRunner.Run("vars", "convert", "--from", source.Path, "--template", Fixtures.Path(Fixtures.Vars4M), "-o", existing.Path, "--force");
        Assert.Equal(0, forced.ExitCode);
        Assert.Equal(0x84000, existing.Bytes.Length);
        Assert.Equal("01\n", CliRunner.Run("vars", "get", existing.Path, "EmuTest", "--hex").Stdout);

        using var big = new TempCopy(Fixtures.Vars4M);
        using var data = new TempCopy(new byte[0x10000]);
        Assert.Equal(0, CliRunner.Run("vars", "set", big.Path, "Huge", "--guid", Vendor, "--data-file", data.Path).ExitCode);
        string output = CliRunner.TempFile(".fd");
        var overfill = CliRunner.Run("vars", "convert", "--from", big.Path, "--template", Fixtures.Path(Fixtures.Vars2M), "-o", output);
        Assert.Equal(2, overfill.ExitCode);
        Assert.Contains("do not fit", overfill.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }
}
