using System.Diagnostics;
using System.Text.Json;
using Emulator.Hosting.Bench;
using Emulator.Hosting.Varstore;
using Xunit.Abstractions;

namespace Emulator.Boot.Tests.Varstore;

/// <summary>
/// Issue 3's crash guarantee, tested on the real CLI in a child process running the flash
/// workload (erase every block, then program every byte with OVMF's sequence, several passes):
/// killed with SIGKILL at random instants (fixed seed), the vars file — as the next boot opens
/// it, journal replayed — always equals its previous state plus a prefix of the workload's
/// operations; SIGTERM, SIGINT and a clean exit leave every completed operation in the file and no
/// journal; the file keeps its inode, mode and owner throughout. Each killed run starts from the
/// previous one's leftovers, so recovery at start-up is itself killed now and then.
/// <c>EMU_SOAK=1</c> kills 200 times instead of 20.
/// </summary>
[Trait("Category", "Slow")]
public class VarstoreCrashTests(ITestOutputHelper output)
{
    private const int Seed = 20261201;
    // 1 MiB x 3 passes, interpreted (--interpret): the guest writes for a few hundred
    // milliseconds, long enough for random kills to land mid-workload with journal records
    // outstanding. Compiled, the same workload is over in tens of milliseconds.
    private static readonly FlashWorkload Workload = new(1024 * 1024, 3);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static int Iterations => Environment.GetEnvironmentVariable("EMU_SOAK") == "1" ? 200 : 20;

    private static long OperationCount => Workload.Operations().LongCount();

    private static EmuProcess Start(string code, string vars, string? report = null) =>
        new(FlashWorkload.StartMarker, ["boot", "--code", code, "--vars", vars, "--quiet", "--no-status", "--interpret", .. report != null ? new[] { "--report", report } : []]);

    [Fact]
    public void CleanExitLeavesEveryOperationInTheFileAndNoJournal()
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        string report = CliRunner.TempFile(".json");
        try
        {
            string identity = VarstoreChecks.Identity(vars);
            using (var emu = Start(code, vars, report))
            {
                Assert.Equal(0, emu.WaitForExit(Timeout));
            }

            Assert.False(File.Exists(VarstoreJournal.PathFor(vars)));
            Assert.Contains(OperationCount, VarstoreChecks.MatchingPrefixes(Workload.BuildVarsImage(), Workload.Operations(), File.ReadAllBytes(vars)));
            Assert.Equal(identity, VarstoreChecks.Identity(vars));
            var v = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("varstore");
            Assert.Equal("persisted", v.GetProperty("mode").GetString());
            Assert.Equal(OperationCount, v.GetProperty("operations").GetInt64());
            Assert.True(v.GetProperty("bytesWritten").GetInt64() >= Workload.BytesProgrammed);
        }
        finally
        {
            VarstoreChecks.Delete(code, vars, report);
        }
    }

    [Fact]
    public void KilledAtRandomInstantsTheFileAlwaysHoldsAPrefixOfTheOperations()
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        try
        {
            // One clean run (on a scratch copy) measures start-up (launch to the workload's first
            // output) and the workload itself (to exit, the final drain included).
            string scratch = CliRunner.TempFile("-vars.fd");
            File.Copy(vars, scratch);
            var clock = Stopwatch.StartNew();
            TimeSpan startup;
            using (var calibration = Start(code, scratch))
            {
                Assert.True(calibration.WaitForMarker(Timeout), calibration.Stderr);
                startup = clock.Elapsed;
                Assert.Equal(0, calibration.WaitForExit(Timeout));
            }

            var run = (clock.Elapsed - startup) * 1.1;
            VarstoreChecks.Delete(scratch);

            string identity = VarstoreChecks.Identity(vars);
            long total = OperationCount;
            var random = new Random(Seed);
            int midWorkload = 0;
            int recovered = 0;
            for (int i = 0; i < Iterations; i++)
            {
                byte[] start = VarstoreChecks.AsNextBootSeesIt(vars);

                // A quarter of the kills land during start-up (where the last kill's journal is
                // being replayed), the rest while the guest writes.
                bool duringStartup = random.NextDouble() < 0.25;
                var delay = (duringStartup ? startup : run) * random.NextDouble();
                using (var emu = Start(code, vars))
                {
                    if (!duringStartup)
                    {
                        Assert.True(emu.WaitForMarker(Timeout), emu.Stderr);
                    }

                    Thread.Sleep(delay);
                    emu.KillHard();
                    emu.WaitForExit(Timeout);
                }

                using var after = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), vars, snapshot: true);
                var prefixes = VarstoreChecks.MatchingPrefixes(start, Workload.Operations(), after.Bytes);
                Assert.True(prefixes.Count > 0, $"kill {i} {delay.TotalMilliseconds:F0} ms after {(duringStartup ? "launch" : "the start marker")} left a file that is no prefix of the operations");
                recovered += after.Recovered.Records > 0 ? 1 : 0;
                midWorkload += !after.Bytes.AsSpan().SequenceEqual(start) && !prefixes.Contains(total) ? 1 : 0;
                output.WriteLine(
                    $"kill {i,3} {delay.TotalMilliseconds,6:F0} ms after {(duringStartup ? "launch" : "start ")}: prefix {prefixes[^1],9:N0} of {total:N0}, journal records {after.Recovered.Records}, torn bytes {after.Recovered.TornBytes}");
            }

            // The kills must have landed where it matters: mid-workload, with work left in the journal.
            Assert.True(midWorkload > 0, "no kill landed in the middle of the workload");
            Assert.True(recovered > 0, "no kill left journal records to replay");
            Assert.Equal(identity, VarstoreChecks.Identity(vars));
        }
        finally
        {
            VarstoreChecks.Delete(code, vars);
        }
    }

    [Fact]
    public void SigtermAndSigintSaveEveryCompletedOperationAndRemoveTheJournal()
    {
        var (code, vars) = VarstoreChecks.WriteWorkload(Workload);
        string report = CliRunner.TempFile(".json");
        try
        {
            string identity = VarstoreChecks.Identity(vars);
            var random = new Random(Seed);
            for (int i = 0; i < 4; i++)
            {
                int signal = i % 2 == 0 ? EmuProcess.Sigterm : EmuProcess.Sigint;
                byte[] start = File.ReadAllBytes(vars);
                using (var emu = Start(code, vars, report))
                {
                    Assert.True(emu.WaitForMarker(Timeout), emu.Stderr);
                    Thread.Sleep(random.Next(10, 300));
                    emu.Signal(signal);
                    Assert.InRange(emu.WaitForExit(Timeout), 0, 1);
                }

                Assert.False(File.Exists(VarstoreJournal.PathFor(vars)));
                var root = JsonDocument.Parse(File.ReadAllText(report)).RootElement;
                long completed = root.GetProperty("varstore").GetProperty("operations").GetInt64();
                var chip = root.GetProperty("machine").GetProperty("flash")[1];
                Assert.Equal(chip.GetProperty("bytesProgrammed").GetInt64() + chip.GetProperty("blocksErased").GetInt64(), completed);
                Assert.Contains(completed, VarstoreChecks.MatchingPrefixes(start, Workload.Operations(), File.ReadAllBytes(vars)));
                output.WriteLine($"signal {signal} ({i}): stop {root.GetProperty("stop").GetProperty("reason").GetString()}, {completed:N0} operations saved");
            }

            Assert.Equal(identity, VarstoreChecks.Identity(vars));
        }
        finally
        {
            VarstoreChecks.Delete(code, vars, report);
        }
    }
}
