using System.Text.Json;
using Emulator.Cli.Boot;
using Emulator.Hosting.Boot;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emulator.Boot.Tests;

/// <summary>
/// <c>emu boot</c> without firmware options: QEMU's firmware descriptors found in injected
/// directories (never the host's /usr/share/qemu/firmware), QEMU's ordering and masking rules,
/// the entries emu passes over, garbage descriptors, the VM's varstore copy, and one real boot.
/// </summary>
[Trait("Category", "Boot")]
public sealed class FirmwareDescriptorTests : IDisposable
{
    private const string Vendor = "3F6C1C1A-5E0B-4A57-9D2A-0B1D6E5A7C11";

    private readonly string _root = Directory.CreateTempSubdirectory("emu-fwdesc-").FullName;

    public FirmwareDescriptorTests()
    {
        foreach (string dir in new[] { System, Etc, User })
        {
            Directory.CreateDirectory(dir);
        }

        // Stand-ins for the images: the selection only needs them to exist.
        File.WriteAllBytes(Path.Combine(_root, "code.fd"), new byte[4096]);
        File.WriteAllBytes(Path.Combine(_root, "vars.fd"), new byte[4096]);
    }

    private string System => Path.Combine(_root, "usr-share");

    private string Etc => Path.Combine(_root, "etc");

    private string User => Path.Combine(_root, "config");

    private string State => Path.Combine(_root, "state", "emu");

    private string Code => Path.Combine(_root, "code.fd");

    private string Vars => Path.Combine(_root, "vars.fd");

    private FirmwareSearch Search(string? fixtures = null) => new([System, Etc, User], State, fixtures);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TheFirstUsableDescriptorByFileNameWinsAndTheOthersSaySo()
    {
        Write(System, "10-secure.json", Descriptor(Code, Vars, features: ["secure-boot", "requires-smm", "enrolled-keys"]));
        Write(System, "20-q35.json", Descriptor(Code, Vars, machines: ["pc-q35-*"]));
        Write(System, "30-bios.json", Descriptor(Code, Vars, interfaces: ["bios"]));
        Write(System, "40-qcow2.json", Descriptor(Code, Vars, format: "qcow2"));
        Write(System, "50-missing.json", Descriptor(Path.Combine(_root, "nowhere.fd"), Vars));
        Write(System, "55-relative.json", Descriptor("code.fd", Vars));
        Write(System, "60-plain.json", Descriptor(Code, Vars, features: ["acpi-s3", "amd-sev", "verbose-dynamic"]));
        Write(System, "70-later.json", Descriptor(Code, Vars));

        var (chosen, entries) = DefaultFirmware.Choose(Search());

        Assert.Equal(Path.Combine(System, "60-plain.json"), chosen!.Descriptor);
        Assert.Equal((FlashMode.Split, Code, Vars), (chosen.Mode, chosen.Executable, chosen.Template));
        Assert.Equal(["10-secure.json", "20-q35.json", "30-bios.json", "40-qcow2.json", "50-missing.json", "55-relative.json", "60-plain.json", "70-later.json"], entries.Select(e => e.Name));
        Assert.Contains("features requires-smm, secure-boot, enrolled-keys: emu's pc machine has no SMM", entries[0].Skipped, StringComparison.Ordinal);
        Assert.Contains("machines pc-q35-*: none is emu's pc-i440fx-7.2", entries[1].Skipped, StringComparison.Ordinal);
        Assert.Contains("not uefi", entries[2].Skipped, StringComparison.Ordinal);
        Assert.Contains("format 'qcow2'", entries[3].Skipped, StringComparison.Ordinal);
        Assert.Contains("does not exist", entries[4].Skipped, StringComparison.Ordinal);
        Assert.Equal("'code.fd' is not an absolute path", entries[5].Skipped);
        Assert.True(entries[7].Usable);
        Assert.All(entries.Take(6), e => Assert.False(e.Malformed));
    }

    [Fact]
    public void ALaterDirectoryReplacesOrHidesASameNamedFileAndNamesSortAcrossDirectories()
    {
        string other = Path.Combine(_root, "other.fd");
        File.WriteAllBytes(other, new byte[4096]);
        Write(System, "50-a.json", Descriptor(Code, Vars));
        Write(Etc, "50-a.json", string.Empty);
        Write(System, "60-b.json", Descriptor(Code, Vars));
        Write(User, "60-b.json", Descriptor(other, Vars));
        Write(User, "70-c.json", Descriptor(Code, Vars));

        var (chosen, entries) = DefaultFirmware.Choose(Search());

        Assert.Equal(["50-a.json", "60-b.json", "70-c.json"], entries.Select(e => e.Name));
        Assert.Equal($"empty: hides {Path.Combine(System, "50-a.json")}", entries[0].Skipped);
        Assert.Equal(Path.Combine(User, "60-b.json"), chosen!.Descriptor);
        Assert.Equal(other, chosen.Executable);
        Assert.Equal([Path.Combine(System, "60-b.json")], entries[1].Hides);

        // A per-user file whose name sorts first is considered first, though its directory comes last.
        Write(User, "05-user.json", Descriptor(other, Vars));
        Assert.Equal(Path.Combine(User, "05-user.json"), DefaultFirmware.Choose(Search()).Chosen!.Descriptor);
    }

    [Fact]
    public void GarbageDescriptorsAreSkippedWithAWarningNamingTheFile()
    {
        Write(System, "10-text.json", "{ this is not json");
        Write(System, "11-array.json", "[1, 2]");
        Write(System, "12-wrong-type.json", """{ "interface-types": ["uefi"], "mapping": "flash", "targets": [] }""");
        Write(System, "13-no-template.json", Descriptor(Code, Vars).Replace("nvram-template", "nvram-elsewhere", StringComparison.Ordinal));
        Write(System, "14-huge.json", new string(' ', 2 << 20));
        File.CreateSymbolicLink(Path.Combine(System, "15-device.json"), "/dev/zero");
        Assert.Equal(0, global::System.Diagnostics.Process.Start("mkfifo", [Path.Combine(System, "16-fifo.json")]).WaitUntilExit());
        Write(System, "20-good.json", Descriptor(Code, Vars));

        var (chosen, entries) = DefaultFirmware.Choose(Search());

        Assert.Equal(Path.Combine(System, "20-good.json"), chosen!.Descriptor);
        Assert.All(entries.Take(7), e => Assert.True(e.Malformed && !e.Usable, e.Name));
        Assert.Contains("'mapping' is string, not object", entries[2].Skipped, StringComparison.Ordinal);
        Assert.Contains("'nvram-template' is missing", entries[3].Skipped, StringComparison.Ordinal);
        Assert.Contains("character device", entries[5].Skipped, StringComparison.Ordinal);
        Assert.Contains("a FIFO", entries[6].Skipped, StringComparison.Ordinal);

        var list = CliRunner.RunWith(Search(), "firmware", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("* 20-good.json  CHOSEN: split", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("  10-text.json  skipped: not a firmware descriptor", list.Stdout, StringComparison.Ordinal);

        // --json: the same verdicts, for scripts.
        var json = CliRunner.RunWith(Search(), "firmware", "list", "--json");
        Assert.Equal(0, json.ExitCode);
        using (var doc = global::System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            var root = doc.RootElement;
            Assert.Equal(Path.Combine(System, "20-good.json"), root.GetProperty("chosen").GetProperty("descriptor").GetString());
            Assert.Equal("split", root.GetProperty("chosen").GetProperty("mode").GetString());
            var descriptors = root.GetProperty("descriptors").EnumerateArray().ToList();
            Assert.Equal(entries.Count, descriptors.Count);
            Assert.Single(descriptors, d => d.GetProperty("chosen").GetBoolean());
            Assert.Equal(7, descriptors.Count(d => d.GetProperty("malformed").GetBoolean()));
            Assert.EndsWith("default_VARS.fd", root.GetProperty("varstore").GetProperty("path").GetString(), StringComparison.Ordinal);
        }

        // boot names every malformed file in a warning and carries on (to the reset vector: the images are stand-ins).
        var boot = CliRunner.RunWith(Search(), "boot", "--until", "reset", "--snapshot");
        foreach (var e in entries.Take(7))
        {
            Assert.Contains($"emu: warning: firmware descriptor {e.Path} skipped: ", boot.Stderr, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("   at Emulator.", boot.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void CombinedAndStatelessModesAreUnderstood()
    {
        Write(System, "50-combined.json", Descriptor(Code, null, mode: "combined"));
        var combined = DefaultFirmware.Resolve(new BootOptions(), Search(), NullLogger.Instance);
        string copy = Path.Combine(State, "default_VARS.fd");
        Assert.Equal((null, null, copy), (combined.Code, combined.Vars, combined.Firmware));
        Assert.Equal(File.ReadAllBytes(Code), File.ReadAllBytes(copy));
        Assert.Equal("combined", combined.FirmwareChoice!.Mode);

        Write(System, "40-stateless.json", Descriptor(Code, null, mode: "stateless"));
        var stateless = DefaultFirmware.Resolve(new BootOptions { Vm = "other" }, Search(), NullLogger.Instance);
        Assert.Equal((Code, null, null), (stateless.Code, stateless.Vars, stateless.Firmware));
        Assert.Null(stateless.FirmwareChoice!.Varstore);
        Assert.False(File.Exists(Path.Combine(State, "other_VARS.fd")));

        // Descriptors from before QEMU 8.1 have no 'mode': split.
        Assert.Equal(FlashMode.Split, FirmwareDescriptor.Parse(File.ReadAllBytes(WriteReturning(System, "x.json", Descriptor(Code, Vars)))).Mode);
    }

    [Theory]
    [InlineData("pc-i440fx-*", true)]
    [InlineData("pc-i440fx-7.?", true)]
    [InlineData("pc-i440fx-7.2", true)]
    [InlineData("*", true)]
    [InlineData("pc-q35-*", false)]
    [InlineData("pc", false)]
    [InlineData("pc-i440fx-7.1", false)]
    [InlineData("pc.i440fx-*", false)]
    public void MachineGlobsAreQemuGlobs(string glob, bool matches) =>
        Assert.Equal(matches, FirmwareDescriptors.GlobMatches(glob, FirmwareDescriptors.MachineType));

    [Fact]
    public void TheSearchDirectoriesFollowTheXdgVariables()
    {
        var env = new Dictionary<string, string> { ["HOME"] = "/home/u", ["XDG_CONFIG_HOME"] = "/cfg", ["XDG_STATE_HOME"] = "relative/ignored" };
        var search = FirmwareSearch.FromEnvironment(n => env.GetValueOrDefault(n), _root);
        Assert.Equal(["/usr/share/qemu/firmware", "/etc/qemu/firmware", "/cfg/qemu/firmware"], search.DescriptorDirectories);
        Assert.Equal("/home/u/.local/state/emu", search.StateDirectory);
        Assert.Null(search.FixtureCache);
        env.Remove("XDG_CONFIG_HOME");
        env["XDG_STATE_HOME"] = "/st";
        search = FirmwareSearch.FromEnvironment(n => env.GetValueOrDefault(n), _root);
        Assert.Equal("/home/u/.config/qemu/firmware", search.DescriptorDirectories[2]);
        Assert.Equal("/st/emu", search.StateDirectory);
    }

    [Fact]
    public void WithoutDescriptorsTheFixturesServeAndWithoutThemOneLineSaysWhatToDo()
    {
        string cache = Path.GetDirectoryName(Fixtures.Path(Fixtures.Code4M))!;
        var (chosen, _) = DefaultFirmware.Choose(Search(cache));
        Assert.Equal((null, Fixtures.Path(Fixtures.Code4M), Fixtures.Path(Fixtures.Vars4M)), (chosen!.Descriptor, chosen.Executable, chosen.Template));

        Write(System, "10-secure.json", Descriptor(Code, Vars, features: ["secure-boot"]));
        var r = CliRunner.RunWith(Search(), "boot", "--until", "reset");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(
            $"emu: no firmware found: no usable UEFI descriptor for x86_64 pc-i440fx-7.2 in {System}, {Etc}, {User} (1 skipped: 'emu firmware list' says why) "
            + "and no fetched fixtures; install OVMF (apt-get install ovmf) or pass --code FILE [--vars FILE]\n",
            r.Stderr);
        Assert.False(Directory.Exists(State));
        Assert.Equal(1, CliRunner.RunWith(Search(), "firmware", "list").ExitCode);
    }

    [Theory]
    [InlineData("--vars")]
    [InlineData("--code")]
    [InlineData("--firmware")]
    public void VmWithNamedFirmwareIsRefused(string option)
    {
        var r = CliRunner.RunWith(Search(), "boot", "--vm", "a", option, Vars);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"emu: --vm picks the varstore of the firmware emu finds itself: not with {option} (give the varstore as --vars FILE)\n", r.Stderr);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    public void AVmNameCannotBeAPath(string vm)
    {
        var r = CliRunner.RunWith(Search(), "boot", "--vm", vm);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"emu: --vm '{vm}': a VM name is", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void AVarstoreOfAnotherBuildIsRefusedAndLeftAlone()
    {
        Write(System, "60-fixture.json", Descriptor(Fixtures.Path(Fixtures.Code4M), Fixtures.Path(Fixtures.Vars4M)));
        Directory.CreateDirectory(State);
        string copy = Path.Combine(State, "old_VARS.fd");
        File.Copy(Fixtures.Path(Fixtures.Vars2M), copy);

        var r = CliRunner.RunWith(Search(), "boot", "--vm", "old", "--until", "reset");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal(
            $"emu: varstore '{copy}' is 131072 bytes but this firmware's template '{Fixtures.Path(Fixtures.Vars4M)}' is 540672: it belongs to another build; "
            + $"use another --vm, or 'emu vars convert --from {copy} --template {Fixtures.Path(Fixtures.Vars4M)} -o NEW.fd' and move NEW.fd there\n",
            r.Stderr);
        Assert.Equal(File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M)), File.ReadAllBytes(copy));
    }

    /// <summary>
    /// The whole job with no firmware options: the first boot copies the template, a variable set
    /// on the copy survives the next boot (which reuses the copy and runs to the Shell banner),
    /// and the choice is on stderr and in the report.
    /// </summary>
    [Fact]
    public void BootsToTheBannerWithTheVmsOwnVarstoreWhichPersists()
    {
        Write(System, "60-fixture.json", Descriptor(Fixtures.Path(Fixtures.Code4M), Fixtures.Path(Fixtures.Vars4M)));
        string copy = Path.Combine(State, "default_VARS.fd");
        string report = Path.Combine(_root, "report.json");

        var first = CliRunner.RunWith(Search(), "boot", "--until", "reset", "--report", report);
        Assert.Equal(0, first.ExitCode);
        Assert.Contains(
            $"emu: firmware {Fixtures.Path(Fixtures.Code4M)} (descriptor 60-fixture.json), varstore {copy} (new copy of {Fixtures.Path(Fixtures.Vars4M)})\n",
            first.Stderr, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Fixtures.Path(Fixtures.Vars4M)), File.ReadAllBytes(copy));
        Assert.True(first.Report!.RootElement.GetProperty("firmwareChoice").GetProperty("varstoreCreated").GetBoolean());
        Assert.Empty(Directory.GetFiles(State, ".*"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(State));
        }

        Assert.Equal(0, CliRunner.Run("vars", "set", copy, "EmuPersist", "--guid", Vendor, "--data-hex", "4b656570").ExitCode);

        var second = CliRunner.RunWith(Search(), "boot", "--until", "banner", "--pace", "off", "--report", report);

        Assert.Equal(0, second.ExitCode);
        Assert.Contains("UEFI Interactive Shell", second.Stdout, StringComparison.Ordinal);
        Assert.Contains($"emu: firmware {Fixtures.Path(Fixtures.Code4M)} (descriptor 60-fixture.json), varstore {copy}\n", second.Stderr, StringComparison.Ordinal);
        var root = second.Report!.RootElement;
        var choice = root.GetProperty("firmwareChoice");
        Assert.Equal(("descriptor", Path.Combine(System, "60-fixture.json"), "split", "default", copy, false), (
            choice.GetProperty("source").GetString(), choice.GetProperty("descriptor").GetString(), choice.GetProperty("mode").GetString(),
            choice.GetProperty("vm").GetString(), choice.GetProperty("varstore").GetString(), choice.GetProperty("varstoreCreated").GetBoolean()));
        Assert.Equal([Fixtures.Path(Fixtures.Code4M), copy], root.GetProperty("firmware").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Contains(root.GetProperty("variables").EnumerateArray(), v => v.GetProperty("name").GetString() == "EmuPersist");
        Assert.Equal("Keep", CliRunner.Run("vars", "get", copy, "EmuPersist", "--guid", Vendor, "--raw").Stdout);
    }

    private static string Descriptor(
        string code, string? vars, string[]? machines = null, string[]? features = null, string[]? interfaces = null, string format = "raw", string? mode = null)
    {
        var mapping = new Dictionary<string, object> { ["device"] = "flash", ["executable"] = new { filename = code, format } };
        if (mode != null)
        {
            mapping["mode"] = mode;
        }

        if (vars != null)
        {
            mapping["nvram-template"] = new { filename = vars, format };
        }

        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["description"] = "test firmware",
            ["interface-types"] = interfaces ?? ["uefi"],
            ["mapping"] = mapping,
            ["targets"] = new[] { new { architecture = "x86_64", machines = machines ?? ["pc-i440fx-*", "pc-q35-*"] } },
            ["features"] = features ?? [],
            ["tags"] = Array.Empty<string>(),
        });
    }

    private static void Write(string dir, string name, string text) => File.WriteAllText(Path.Combine(dir, name), text);

    private static string WriteReturning(string dir, string name, string text)
    {
        Write(dir, name, text);
        return Path.Combine(dir, name);
    }
}
