using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// An OS loader from a disk, as Debian's edk2 autopkgtest boots one (debian/tests/shell.py,
/// test_ovmf_4m_ms_secure_boot_signed / _unsigned): bookworm's 4 MB Secure Boot build on q35 with
/// SMM and the Microsoft-enrolled VARS, the ISO of <see cref="ShimGrubIso"/> as the raw disk at
/// IDE index 0 (AHCI port 0). Signed, BDS starts shim — the <c>loader</c> milestone, with the
/// image's device path as edk2 prints it — shim starts GRUB, and GRUB waits at <c>grub> </c>,
/// which is <c>idle</c>; unsigned, the firmware refuses shim ("Access Denied") and then its own
/// unsigned Shell ("Security Violation", what Debian's test waits for), no image starts, and
/// BDS waits at its Boot Manager prompt. Either way the serial console is byte for
/// byte what QEMU 7.2 printed for Debian's command line (Data/qemu72-console/shim-grub-*.txt).
/// </summary>
[Trait("Category", "Boot")]
public class OsLoaderBootTests : IClassFixture<OsLoaderBootTests.Isos>
{
    /// <summary>The short-form path BDS prints for the disk's boot option, "BdsDxe: starting Boot0001 ... from PATH".</summary>
    private const string BootOptionPath = "PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)";

    /// <summary>
    /// The image's full device path: the disk's El Torito entry, which is the appended FAT partition
    /// (BDS expands the short-form option to it; edk2 PartitionDxe ElTorito.c), and the removable-media file.
    /// </summary>
    private const string ShimDevicePath = BootOptionPath + @"/CDROM(0x0,0x200DC,0x20258)/\EFI\BOOT\BOOTX64.EFI";

    private readonly Isos _isos;

    public OsLoaderBootTests(Isos isos)
    {
        _isos = isos;
    }

    [Fact]
    public void SignedShimStartsGrubWhichIsIdleAtItsPromptWithQemusConsole()
    {
        string state = CliRunner.TempFile(".state");
        var (result, root) = Boot(_isos.Signed, "idle", "--save-state", state);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(Recording("shim-grub-signed.txt"), result.Stdout);
        Assert.EndsWith("grub> ", result.Stdout, StringComparison.Ordinal);
        var milestones = root.GetProperty("milestones").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Equal(["reset", "protected", "sec", "pei", "long", "dxe", "bds", "loader", "idle"], milestones);
        var loader = Milestone(root, "loader");
        var image = loader.GetProperty("image");
        Assert.Equal(ShimDevicePath, image.GetProperty("devicePath").GetString());
        Assert.Contains($"BdsDxe: starting Boot0001 \"UEFI QEMU HARDDISK QM00001 \" from {BootOptionPath}\r\n", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("Amd64", image.GetProperty("machine").GetString());
        Assert.Equal(10, image.GetProperty("subsystem").GetInt32());
        Assert.Equal(loader.GetProperty("address").GetString(), image.GetProperty("entry").GetString());

        // Shim starts GRUB on its own image handle with FilePath pointed at GRUB: logged as an image, with GRUB's path.
        Assert.Contains(@"/CDROM(0x0,0x200DC,0x20258)/\EFI\BOOT\grubx64.efi", result.Stderr, StringComparison.Ordinal);

        // GRUB polls the console without halting; its prompt is idle 3 virtual seconds (within a timer tick) after the last byte.
        var idle = Milestone(root, "idle");
        Assert.Equal("grub>", idle.GetProperty("screen").EnumerateArray().Select(l => l.GetString()).Last(l => l!.Length > 0));
        Assert.Contains("GNU GRUB  version 2.06-13+deb12u2", idle.GetProperty("screen").EnumerateArray().Select(l => l.GetString()!.Trim()));

        // Restored there, GRUB's console polls still idle the CPU (the loader's system table is in the saved
        // session): 50 M more instructions are minutes of virtual time, not 50 ms of spinning.
        long at = idle.GetProperty("instruction").GetInt64();
        var (restored, after) = Restore(state, at + 50_000_000);
        Assert.True(restored.ExitCode == 1, restored.Stderr);    // the instruction budget: GRUB waits on
        Assert.True(after.GetProperty("virtualTime").GetProperty("nanoseconds").GetInt64() - idle.GetProperty("virtualMs").GetDouble() * 1e6 > 60e9);
    }

    [Fact]
    public void UntilLoaderStopsWhereBdsStartsShim()
    {
        var (result, root) = Boot(_isos.Signed, "loader");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("until", root.GetProperty("stop").GetProperty("reason").GetString());
        var last = root.GetProperty("milestones").EnumerateArray().Last();
        Assert.Equal("loader", last.GetProperty("name").GetString());
        Assert.Equal(ShimDevicePath, last.GetProperty("image").GetProperty("devicePath").GetString());
        Assert.DoesNotContain("GRUB", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void GrubTakesTypedInputAndHaltPowersOffAsDebiansTestExpects()
    {
        // Debian's run_cmd_check_secure_boot: at 'grub> ' it sends "halt\r" and expects the emulator to exit 0.
        var (result, root) = Boot(_isos.Signed, null, "--expect", "grub> ", "--send", @"echo typed-at-grub\r", "--expect", "grub> ", "--send", @"halt\r");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("powerOff", root.GetProperty("stop").GetProperty("reason").GetString());
        Assert.Contains("\rtyped-at-grub\n", result.Stdout, StringComparison.Ordinal);      // GRUB ends its lines "\n\r"
    }

    [Fact]
    public void UnsignedShimIsRefusedAndNoLoaderStarts()
    {
        var (result, root) = Boot(_isos.Unsigned, "idle");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(Recording("shim-grub-unsigned.txt"), result.Stdout);
        Assert.Contains("Security Violation", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(root.GetProperty("milestones").EnumerateArray(), m => m.GetProperty("name").GetString() == "loader");
    }

    private static (CliResult Result, JsonElement Root) Boot(string iso, string? until, params string[] script)
    {
        string vars = CliRunner.TempFile(".fd");
        string report = CliRunner.TempFile(".json");
        File.Copy(Fixtures.Path("OVMF_VARS_4M.ms.fd"), vars);
        try
        {
            string[] stop = until == null ? [] : ["--until", until];
            var result = CliRunner.Run(
                [
                    "boot", "--machine", "q35", "--code", Fixtures.Path(Fixtures.Code4MSecboot), "--vars", vars, "--snapshot",
                    "--disk", iso, .. stop, .. script, "--report", report,
                ]);
            Assert.True(result.Report != null, result.Stderr);
            return (result, result.Report.RootElement.Clone());
        }
        finally
        {
            File.Delete(vars);
            File.Delete(report);
        }
    }

    private (CliResult Result, JsonElement Root) Restore(string state, long budget)
    {
        string report = CliRunner.TempFile(".json");
        string vars = CliRunner.TempFile(".fd");
        File.Copy(Fixtures.Path("OVMF_VARS_4M.ms.fd"), vars);
        try
        {
            var result = CliRunner.Run(
                "boot", "--machine", "q35", "--restore", state, "--code", Fixtures.Path(Fixtures.Code4MSecboot), "--vars", vars, "--snapshot",
                "--disk", _isos.Signed, "--max-instructions", budget.ToString(CultureInfo.InvariantCulture), "--report", report);
            Assert.True(result.Report != null, result.Stderr);
            return (result, result.Report.RootElement.Clone());
        }
        finally
        {
            File.Delete(state);
            File.Delete(vars);
            File.Delete(report);
        }
    }

    private static JsonElement Milestone(JsonElement root, string name) =>
        Assert.Single(root.GetProperty("milestones").EnumerateArray(), m => m.GetProperty("name").GetString() == name);

    private static string Recording(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "qemu72-console", name), Encoding.UTF8);

    /// <summary>The signed and the unsigned ISO, built once for the class.</summary>
    public sealed class Isos : IDisposable
    {
        public string Signed { get; } = ShimGrubIso.Build(signed: true);

        public string Unsigned { get; } = ShimGrubIso.Build(signed: false);

        public void Dispose()
        {
            File.Delete(Signed);
            File.Delete(Unsigned);
        }
    }
}
