namespace Emulator.Boot.Tests.Compare;

/// <summary>
/// The boots the compare tests share (each pair runs in parallel, ~30-60 s on a loaded machine):
/// the 2 MB build against itself, the 2 MB against the 4 MB build, Debian's deb12u1 against deb12u2, and the 2 MB build with SEC's
/// entry patched to HLT; every run stops at the Shell banner.
/// </summary>
public sealed class CompareRuns : IDisposable
{
    public CompareRuns()
    {
        Dir = Path.Combine(Path.GetTempPath(), $"emu-test-compare-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Dir);
        Self = CliRunner.Run(
            "compare", "--baseline-code", Fixtures.Path(Fixtures.Code2M), "--baseline-vars", Fixtures.Path(Fixtures.Vars2M),
            "--candidate-code", Fixtures.Path(Fixtures.Code2M), "--candidate-vars", Fixtures.Path(Fixtures.Vars2M),
            "--until", "banner", "--json", In("self.json"), "--markdown", In("self.md"), "--keep-reports", In("self"));
        Sizes = CliRunner.Run(
            "compare", "--baseline-code", Fixtures.Path(Fixtures.Code2M), "--baseline-vars", Fixtures.Path(Fixtures.Vars2M),
            "--candidate-code", Fixtures.Path(Fixtures.Code4M), "--candidate-vars", Fixtures.Path(Fixtures.Vars4M),
            "--until", "banner", "--json", In("sizes.json"), "--keep-reports", In("sizes"));

        Updates = CliRunner.Run(
            "compare", "--baseline-code", Fixtures.Path(Fixtures.Code2MDeb12u1), "--baseline-vars", Fixtures.Path(Fixtures.Vars2M),
            "--candidate-code", Fixtures.Path(Fixtures.Code2M), "--candidate-vars", Fixtures.Path(Fixtures.Vars2M),
            "--until", "banner", "--json", In("updates.json"), "--markdown", In("updates.md"), "--keep-reports", In("updates"));

        // SEC's entry (the 'sec' milestone's address, in the top of the 4 GiB space) becomes HLT with
        // interrupts off: SEC never decompresses the PEI volume, so PEI and everything after is lost.
        byte[] code = File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M));
        ulong sec = Convert.ToUInt64(Milestone(In("self", "baseline.json"), "sec").GetProperty("address").GetString(), 16);
        SecOffset = (int)(sec - ((1UL << 32) - (ulong)code.Length));
        code[SecOffset] = 0xF4;
        File.WriteAllBytes(In("damaged.fd"), code);
        File.Copy(Fixtures.Path(Fixtures.Vars2M), In("damaged-vars.fd"));
        DamagedBoot = CliRunner.Run("boot", "--code", In("damaged.fd"), "--vars", In("damaged-vars.fd"), "--until", "banner", "--quiet", "--report", In("damaged.json"));
    }

    public string Dir { get; }

    public CliResult Self { get; }

    public CliResult Sizes { get; }

    public CliResult DamagedBoot { get; }

    /// <summary>Debian's previous update (2022.11-6+deb12u1) against the current fixture (+deb12u2).</summary>
    public CliResult Updates { get; }

    public int SecOffset { get; }

    public string In(params string[] parts) => Path.Combine([Dir, .. parts]);

    public static System.Text.Json.JsonElement Milestone(string report, string name) =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("milestones").EnumerateArray()
            .First(m => m.GetProperty("name").GetString() == name);

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
