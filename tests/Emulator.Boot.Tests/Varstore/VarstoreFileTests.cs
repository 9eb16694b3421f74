using Emulator.Hosting.Bench;
using Emulator.Cli.CommandLine;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Hosting.Varstore;
using Emulator.Hosting;

namespace Emulator.Boot.Tests.Varstore;

/// <summary>
/// Opening the writable flash file: a leftover journal is recovered into the file in place (or
/// only in memory with --snapshot), a foreign journal or a read-only file is refused with one
/// line, --snapshot never touches the file, and persistence carries a whole workload to the file.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Trait("Category", "Unit")]
public class VarstoreFileTests
{
    private static readonly FlashWorkload Workload = new(4 * FlashWorkload.BlockSize, 2);

    /// <summary>A 64-byte file of 0xFF with a journal beside it holding three records.</summary>
    private static string FileWithLeftoverJournal()
    {
        string path = CliRunner.TempFile("-vars.fd");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0xFF, 64).ToArray());
        File.WriteAllBytes(VarstoreJournal.PathFor(path), Emulator.Tests.Shared.TestJournals.Journal(7, (0, [1, 2, 3]), (2, [9, 9]), (60, [7, 7, 7, 7])));
        return path;
    }

    private static byte[] Recovered()
    {
        var expected = Enumerable.Repeat((byte)0xFF, 64).ToArray();
        new byte[] { 1, 2, 9, 9 }.CopyTo(expected, 0);
        expected.AsSpan(60).Fill(7);
        return expected;
    }

    [Fact]
    public void ALeftoverJournalIsRecoveredIntoTheFileInPlaceThenRemovedOnClose()
    {
        string path = FileWithLeftoverJournal();
        try
        {
            string identity = VarstoreChecks.Identity(path);
            using (var file = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot: false))
            {
                Assert.Equal(Recovered(), file.Bytes);
                Assert.Equal((3L, 9L), (file.Recovered.Records, file.Recovered.DataBytes));
                Assert.Equal(Recovered(), ReadShared(path));
                Assert.Equal(8UL, file.Epoch); // the next epoch: the old records can never apply again
                file.Close();
            }

            Assert.False(File.Exists(VarstoreJournal.PathFor(path)));
            Assert.Equal(identity, VarstoreChecks.Identity(path));
        }
        finally
        {
            VarstoreChecks.Delete(path);
        }
    }

    [Fact]
    public void SnapshotAppliesALeftoverJournalInMemoryAndTouchesNothing()
    {
        string path = FileWithLeftoverJournal();
        string journal = VarstoreJournal.PathFor(path);
        try
        {
            var (fileBytes, journalBytes) = (File.ReadAllBytes(path), File.ReadAllBytes(journal));
            using (var file = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot: true))
            {
                Assert.True(file.Snapshot);
                Assert.Equal(Recovered(), file.Bytes);
                file.Close();
            }

            Assert.Equal(fileBytes, File.ReadAllBytes(path));
            Assert.Equal(journalBytes, File.ReadAllBytes(journal));
        }
        finally
        {
            VarstoreChecks.Delete(path);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AJournalThatIsNotOursIsRefusedAndLeftAlone(bool snapshot)
    {
        string path = FileWithLeftoverJournal();
        string journal = VarstoreJournal.PathFor(path);
        File.WriteAllText(journal, "not a journal at all, but somebody's notes");
        try
        {
            var e = Assert.Throws<UsageException>(() => VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot));
            Assert.Contains("is not an emu journal", e.Message, StringComparison.Ordinal);
            Assert.Equal("not a journal at all, but somebody's notes", File.ReadAllText(journal));
            Assert.Equal(Enumerable.Repeat((byte)0xFF, 64), File.ReadAllBytes(path));
        }
        finally
        {
            VarstoreChecks.Delete(path);
        }
    }

    [Fact]
    public void AFileInUseByAnotherRunIsRefused()
    {
        string path = CliRunner.TempFile("-vars.fd");
        File.WriteAllBytes(path, new byte[4096]);
        try
        {
            using var first = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot: false);
            var e = Assert.Throws<UsageException>(() => VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot: false));
            Assert.Contains("cannot be opened for writing", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            VarstoreChecks.Delete(path);
        }
    }

    [Theory]
    [InlineData("--vars")]
    [InlineData("--firmware")]
    public void AReadOnlyFileIsRefusedWithOneLineUnlessSnapshot(string option)
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        try
        {
            File.SetUnixFileMode(vars, UnixFileMode.UserRead | UnixFileMode.GroupRead);
            string[] args = option == "--vars" ? ["boot", "--code", code, "--vars", vars, "--quiet"] : ["boot", "--firmware", vars, "--quiet", "--max-instructions", "1000"];
            var r = CliRunner.Run(args);

            Assert.Equal(2, r.ExitCode);
            string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"emu: {(option == "--vars" ? "vars" : "firmware")} file '{vars}' is not writable", line, StringComparison.Ordinal);
            Assert.Contains("--snapshot", line, StringComparison.Ordinal);
            Assert.False(File.Exists(VarstoreJournal.PathFor(vars)));

            Assert.NotEqual(2, CliRunner.Run([.. args, "--snapshot"]).ExitCode);
        }
        finally
        {
            VarstoreChecks.Delete(code, vars);
        }
    }

    [Fact]
    public void ABadOptionFoundAfterTheFileIsOpenedLeavesNoJournalAndTheBytesAsTheyWere()
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        try
        {
            byte[] before = File.ReadAllBytes(vars);
            var r = CliRunner.Run("boot", "--code", code, "--vars", vars, "--quiet", "--serial-input", "@/nonexistent/input.txt");

            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.False(File.Exists(VarstoreJournal.PathFor(vars)), "a journal was left beside the user's file");
            Assert.Equal(before, File.ReadAllBytes(vars));
        }
        finally
        {
            VarstoreChecks.Delete(code, vars);
        }
    }

    [Fact]
    public void SnapshotLeavesTheFileBytesAndTimeUntouchedWhileTheGuestSeesItsWrites()
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        string report = CliRunner.TempFile(".json");
        try
        {
            var old = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(vars, old);
            var r = CliRunner.Run("boot", "--code", code, "--vars", vars, "--snapshot", "--quiet", "--report", report);

            Assert.Equal(0, r.ExitCode);
            var chip = r.Report!.RootElement.GetProperty("machine").GetProperty("flash")[1];
            Assert.Equal(Workload.BytesProgrammed, chip.GetProperty("bytesProgrammed").GetInt64());
            Assert.Equal("snapshot", r.Report.RootElement.GetProperty("varstore").GetProperty("mode").GetString());
            Assert.Equal(Workload.BuildVarsImage(), File.ReadAllBytes(vars));
            Assert.Equal(old, File.GetLastWriteTimeUtc(vars));
            Assert.False(File.Exists(VarstoreJournal.PathFor(vars)));
        }
        finally
        {
            VarstoreChecks.Delete(code, vars, report);
        }
    }

    [Fact]
    public void TheUnifiedImageIsPersistedAndTheCodeChipIsNever()
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        string report = CliRunner.TempFile(".json");
        try
        {
            var codeBytes = File.ReadAllBytes(code);
            var r = CliRunner.Run("boot", "--code", code, "--vars", vars, "--quiet", "--report", report);
            Assert.Equal(0, r.ExitCode);
            Assert.Equal(codeBytes, File.ReadAllBytes(code));
            Assert.False(File.Exists(VarstoreJournal.PathFor(code)));

            // A unified image is one writable chip: opened for persistence, its journal gone after the run.
            var u = CliRunner.Run("boot", "--firmware", vars, "--quiet", "--max-instructions", "1000", "--report", report);
            Assert.Equal(1, u.ExitCode);
            Assert.Equal("persisted", u.Report!.RootElement.GetProperty("varstore").GetProperty("mode").GetString());
            Assert.False(File.Exists(VarstoreJournal.PathFor(vars)));
        }
        finally
        {
            VarstoreChecks.Delete(code, vars, report);
        }
    }

    [Fact]
    public void PersistenceCarriesEveryOperationOfTheGuestToTheFile()
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        try
        {
            using (var file = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), vars, snapshot: false))
            {
                using var machine = new PcMachine(new MachineOptions
                {
                    Flash = [new FlashImage("code", Workload.BuildCodeImage(), true), new FlashImage("vars", file.Bytes, false)],
                });
                using var persistence = new FlashPersistence(file);
                machine.FlashChips[1].AddListener(persistence);

                Assert.Equal(StopReason.PowerOff, machine.Cpu.Run(10_000_000));
                persistence.Dispose();

                Assert.Null(persistence.Failure);
                Assert.Equal(Workload.Operations().LongCount(), persistence.Operations);
                Assert.Equal(machine.FlashChips[1].Contents.ToArray(), ReadShared(vars));
            }

            var expected = Workload.BuildVarsImage();
            foreach (var op in Workload.Operations())
            {
                FlashWorkload.Apply(expected, op);
            }

            Assert.Equal(expected, File.ReadAllBytes(vars));
            Assert.False(File.Exists(VarstoreJournal.PathFor(vars)));
        }
        finally
        {
            VarstoreChecks.Delete(code, vars);
        }
    }

    /// <summary>
    /// Reads a file this process holds locked for writing: .NET's own opens honour the lock, so
    /// cat(1) reads it, as another program would.
    /// </summary>
    private static byte[] ReadShared(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("cat", [path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        using var bytes = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(bytes);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return bytes.ToArray();
    }
}
