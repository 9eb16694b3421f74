using Emulator.Hosting.Varstore;


namespace Emulator.Boot.Tests.Varstore;

/// <summary>
/// Issue 4's persistence on the real firmware (2 MB build): a variable set from the Shell with
/// <c>setvar -nv</c> is in the varstore file after <c>reset -s</c>, and a second boot from that
/// file reads it back with <c>dmpstore</c> (boot options would prove nothing: the boot manager
/// re-creates them every boot). Two identical runs from two fresh copies of the template leave
/// byte-identical files, and the file keeps its inode and mode.
/// </summary>
[Trait("Category", "Boot")]
public class VarstoreShellTests
{
    private const string Guid = "4d1f7b3a-9c2e-4b8a-8f6d-2a5e0c7b9d13";

    private static CliResult Boot(string vars, string command) => Boot(["--code", Fixtures.Path(Fixtures.Code2M)], vars, command);

    private static CliResult Boot(string[] machine, string vars, string command) => CliRunner.Run(
        ["boot", .. machine, "--vars", vars, "--quiet",
        "--expect", "Press ESC in", "--send", @"\e",
        "--expect", "Shell>", "--send", command + @"\r",
        "--expect", "Shell>", "--send", @"reset -s\r"]);

    /// <summary>
    /// The same through SMM (issue 17): bookworm's 4 MB Secure Boot build on q35 with secure
    /// flash, where only SMM code may program the chip (VariableSmm → FaultTolerantWriteSmm →
    /// FvbServicesSmm after an APM SMI). The variable reaches the file, every flash write came
    /// from SMM and none was refused, and the second boot reads it back.
    /// </summary>
    [Fact]
    public void ThroughSmmOnQ35AVariableSetInTheShellReachesTheFileAndIsReadBack()
    {
        string[] machine = ["--machine", "q35", "--secure-flash", "--code", Fixtures.Path(Fixtures.Code4MSecboot)];
        string copy = CliRunner.TempFile("-vars.fd");
        string report = CliRunner.TempFile(".json");
        try
        {
            File.Copy(Fixtures.Path(Fixtures.Vars4M), copy);
            var set = Boot([.. machine, "--report", report], copy, $"setvar EmuSmm -guid {Guid} -nv -bs =0x5A5AC3");
            Assert.True(set.ExitCode == 0, set.Stderr);
            Assert.Contains($"EmuSmm ", CliRunner.Run("vars", "list", copy).Stdout, StringComparison.Ordinal);
            using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(report)))
            {
                var smm = json.RootElement.GetProperty("smm");
                Assert.True(smm.GetProperty("entries").GetInt64() > 0);
                Assert.True(smm.GetProperty("flashWritesFromSmm").GetInt64() > 0);
                Assert.Equal(0, smm.GetProperty("rejectedFlashWrites").GetInt64());
            }

            var read = Boot(machine, copy, $"dmpstore EmuSmm -guid {Guid}");
            Assert.True(read.ExitCode == 0, read.Stderr);
            string console = System.Text.RegularExpressions.Regex.Replace(read.Stdout, @"\x1b\[[0-9;]*[A-Za-z]", string.Empty);
            Assert.Contains($"Variable NV+BS '{Guid.ToUpperInvariant()}:EmuSmm' DataSize = 0x04\r\n  00000000: C3 5A 5A 00 ", console, StringComparison.Ordinal);
        }
        finally
        {
            VarstoreChecks.Delete(copy);
            File.Delete(report);
        }
    }

    [Fact]
    public void AVariableSetInTheShellIsReadBackAfterTheNextBootAndRunsAreByteIdentical()
    {
        string[] copies = [CliRunner.TempFile("-vars.fd"), CliRunner.TempFile("-vars.fd")];
        try
        {
            foreach (var copy in copies)
            {
                File.Copy(Fixtures.Path(Fixtures.Vars2M), copy);
            }

            string identity = VarstoreChecks.Identity(copies[0]);
            foreach (var copy in copies)
            {
                var set = Boot(copy, $"setvar EmuTest -guid {Guid} -nv -bs =0x0102A5");
                Assert.True(set.ExitCode == 0, set.Stderr);
                Assert.False(File.Exists(VarstoreJournal.PathFor(copy)));
            }

            Assert.NotEqual(File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M)), File.ReadAllBytes(copies[0]));
            Assert.Equal(File.ReadAllBytes(copies[0]), File.ReadAllBytes(copies[1]));

            var read = Boot(copies[0], $"dmpstore EmuTest -guid {Guid}");
            Assert.True(read.ExitCode == 0, read.Stderr);
            string console = System.Text.RegularExpressions.Regex.Replace(read.Stdout, @"\x1b\[[0-9;]*[A-Za-z]", string.Empty);
            Assert.Contains($"Variable NV+BS '{Guid.ToUpperInvariant()}:EmuTest' DataSize = 0x04\r\n  00000000: A5 02 01 00 ", console, StringComparison.Ordinal);
            Assert.Equal(identity, VarstoreChecks.Identity(copies[0]));
        }
        finally
        {
            VarstoreChecks.Delete(copies);
        }
    }
}
