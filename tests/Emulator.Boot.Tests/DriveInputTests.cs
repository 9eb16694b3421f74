namespace Emulator.Boot.Tests;

/// <summary>
/// emu boot's drive options refuse bad input before anything runs: one line, exit 2, nothing
/// written (the varstore, the images and the folders keep their bytes and times).
/// </summary>
[Trait("Category", "Fixture")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class DriveInputTests
{
    [Fact]
    public void BadDrivesAreOneLineAndExitTwoWithNothingWritten()
    {
        string dir = Directory.CreateTempSubdirectory("emu-drive-input-").FullName;
        try
        {
            string vars = Path.Combine(dir, "vars.fd");
            File.Copy(Fixtures.Path(Fixtures.Vars2M), vars);
            File.WriteAllBytes(Path.Combine(dir, "odd.img"), new byte[1000]);
            File.WriteAllBytes(Path.Combine(dir, "a.img"), new byte[1 << 20]);
            Directory.CreateDirectory(Path.Combine(dir, "folder"));
            string readOnlyFolder = Directory.CreateDirectory(Path.Combine(dir, "readonly")).FullName;
            File.SetUnixFileMode(readOnlyFolder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            if (Emulator.Storage.Host.FileStatus.IsWritable(readOnlyFolder))
            {
                // root writes anywhere a mode allows; procfs refuses even root.
                readOnlyFolder = "/proc/self";
            }

            var cases = new (string[] Args, string Error)[]
            {
                (["--disk", Path.Combine(dir, "missing.img")], "missing.img"),
                (["--disk", Path.Combine(dir, "folder")], "folder"),
                (["--disk", Path.Combine(dir, "odd.img")], "not a whole number of 512-byte sectors"),
                (["--disk", Path.Combine(dir, "a.img") + ",readonly"], "an IDE disk cannot be read-only"),
                (["--cdrom", Path.Combine(dir, "missing.iso")], "missing.iso"),
                (["--fat", Path.Combine(dir, "missing") + ":rw"], "does not exist"),
                (["--fat", readOnlyFolder + ":rw"], "is not writable"),
                (["--fat", Path.Combine(dir, "folder")], "an IDE disk cannot be read-only"),
                (["--fat", Path.Combine(dir, "folder") + ":rw", "--snapshot"], "a folder cannot be rw with --snapshot"),
                (["--disk", Path.Combine(dir, "a.img") + ",snapshot", "--disk", Path.Combine(dir, "a.img") + ",snapshot", "--disk", Path.Combine(dir, "a.img") + ",snapshot", "--cdrom", Path.Combine(dir, "a.img")], "IDE index 2 (secondary master) is taken by --disk"),
                (["--disk", Path.Combine(dir, "a.img"), "--disk", Path.Combine(dir, "a.img")], "is another emu or QEMU using it?"),
                (["--disk", Path.Combine(dir, "missing.img") + ",if=virtio"], "missing.img"),
                (["--disk", Path.Combine(dir, "odd.img") + ",readonly,if=virtio"], "not a whole number of 512-byte sectors"),
                (["--fat", Path.Combine(dir, "missing") + ",if=virtio"], "does not exist"),
                (["--disk", Path.Combine(dir, "a.img") + ",if=virtio", "--disk", Path.Combine(dir, "a.img")], "is another emu or QEMU using it?"),
            };
            string before = ScratchFolder.Listing(dir);
            foreach (var (args, error) in cases)
            {
                var r = CliRunner.Run(["boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", vars, "--no-status", .. args]);
                Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}: {r.Stderr}");
                Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
                Assert.Contains(error, r.Stderr, StringComparison.Ordinal);
                Assert.Empty(r.Stdout);
                Assert.Equal(before, ScratchFolder.Listing(dir));
            }
        }
        finally
        {
            File.SetUnixFileMode(Path.Combine(dir, "readonly"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(dir, recursive: true);
        }
    }
}
