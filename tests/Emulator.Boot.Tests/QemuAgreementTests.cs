namespace Emulator.Boot.Tests;

/// <summary>
/// Differential check against the reference machine: QEMU 7.2 single-stepped the same firmware
/// (../shared/tools/qemu-trace) and the CPU state before every 2,500th instruction of the first
/// 200,000 steps is kept in Data/. Our trace must agree on every field QEMU exposes (low 32 bits
/// outside 64-bit mode, as QEMU's gdbstub shows only those there).
/// </summary>
[Trait("Category", "Boot")]
public class QemuAgreementTests
{
    [Theory]
    [InlineData("2m", Fixtures.Code2M, Fixtures.Vars2M)]
    [InlineData("4m", Fixtures.Code4M, Fixtures.Vars4M)]
    public void StateMatchesQemuAtEveryCheckpoint(string build, string code, string vars)
    {
        var expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", $"qemu72-checkpoints-{build}.txt"));
        string[] fields = expected.First(l => l.StartsWith("# fields:", StringComparison.Ordinal))[9..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var checkpoints = expected.Where(l => !l.StartsWith('#')).Select(l => l.Split(' ')).ToList();
        long last = long.Parse(checkpoints[^1][0]);

        string trace = CliRunner.TempFile(".trace");
        try
        {
            var r = CliRunner.Run("boot", "--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars),
                "--trace", trace, "--trace-limit", (last + 1).ToString(), "--max-instructions", (last + 1).ToString(), "--quiet", "--snapshot");
            Assert.Equal(1, r.ExitCode);
            var ours = new Dictionary<long, string[]>();
            string[]? ourFields = null;
            foreach (var line in File.ReadLines(trace))
            {
                if (line.StartsWith("# fields:", StringComparison.Ordinal))
                {
                    ourFields = line[9..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                }
                else if (!line.StartsWith('#'))
                {
                    var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    long insn = long.Parse(v[0]);
                    if (insn % 2500 == 0)
                    {
                        ours[insn] = v;
                    }
                }
            }

            Assert.NotNull(ourFields);
            foreach (var cp in checkpoints)
            {
                long insn = long.Parse(cp[0]);
                Assert.True(ours.TryGetValue(insn, out var mine), $"no state for instruction {insn}");
                bool wide = cp[1] == "64";
                for (int f = 1; f < fields.Length; f++)
                {
                    if (cp[f] == "?")
                    {
                        continue;
                    }

                    ulong q = Convert.ToUInt64(cp[f], 16);
                    ulong o = Convert.ToUInt64(mine[Array.IndexOf(ourFields!, fields[f])], fields[f] == "mode" ? 10 : 16);
                    if (fields[f] == "mode")
                    {
                        q = ulong.Parse(cp[f]);
                    }
                    else if (!wide)
                    {
                        q &= 0xFFFFFFFF;
                        o &= 0xFFFFFFFF;
                    }

                    Assert.True(q == o, $"instruction {insn}: {fields[f]} is {o:x}, QEMU has {q:x}");
                }
            }
        }
        finally
        {
            File.Delete(trace);
        }
    }
}
