namespace Emulator.Boot.Tests.Qemu;

/// <summary>
/// Issue 18 through the drop-in under the pexpect harness: <c>-drive file=X.qcow2,format=qcow2,snapshot=on</c>
/// boots the qcow2 disk of <see cref="Qcow2DriveBootTests"/> to its script's power-off; without
/// format= the image is probed as qcow2 (no probing warning: QEMU warns only when it guesses raw);
/// a drive that would write the qcow2 file, and format=qcow2 on a raw file, are refused with one
/// line and exit 1.
/// </summary>
[Trait("Category", "Qemu")]
public class Qcow2DriveHarnessTests
{
    [Theory]
    [InlineData("format=qcow2,snapshot=on")]
    [InlineData("media=disk")]
    public void TheQcow2DiskBootsToItsScriptsPowerOff(string options)
    {
        using var images = new Qcow2Images();
        byte[] before = File.ReadAllBytes(images.Qcow2);
        string[] snapshot = options.Contains("snapshot", StringComparison.Ordinal) ? [] : ["-snapshot"];
        var run = QemuHarnessTests.Harness(["expect:" + Qcow2DriveBootTests.Marker, "eof"], [.. Line(images, $"file={images.Qcow2},{options}"), .. snapshot]);
        Assert.True(run.Ok, run.Describe());
        Assert.Equal(0, run.ExitStatus);
        // The file the script wrote, typed back (the terminal adds its own \r to each line).
        Assert.Matches("\nwritten\r", run.Output);
        Assert.DoesNotContain("probing guessed raw", run.Output, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(images.Qcow2));
    }

    [Theory]
    [InlineData("format=qcow2", "emu reads qcow2 images but does not write them: add snapshot=on (or -snapshot)")]
    [InlineData("media=disk", "emu reads qcow2 images but does not write them")]
    [InlineData("RAW,format=qcow2,snapshot=on", "Image is not in qcow2 format")]
    public void DrivesEmuCannotHonourAreRefusedInOneLine(string options, string error)
    {
        using var images = new Qcow2Images();
        string file = options.StartsWith("RAW,", StringComparison.Ordinal) ? $"file={images.Raw},{options[4..]}" : $"file={images.Qcow2},{options}";
        string listing = ScratchFolder.Listing(images.Directory);
        var run = QemuHarnessTests.Harness(["eof"], Line(images, file));
        Assert.True(run.Ok, run.Describe());
        Assert.Equal(1, run.ExitStatus);
        Assert.Single(run.Output.Trim().Split('\n'));
        Assert.Contains($"-drive {file}: {error}", run.Output, StringComparison.Ordinal);
        Assert.Equal(listing, ScratchFolder.Listing(images.Directory));
    }

    private static string[] Line(Qcow2Images images, string drive) =>
    [
        "-nodefaults", "-display", "none", "-machine", "pc", "-serial", "stdio",
        "-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={Fixtures.Path(Fixtures.Code2M)}",
        "-drive", $"if=pflash,format=raw,unit=1,file={images.Vars}",
        "-drive", drive,
    ];
}
