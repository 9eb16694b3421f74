namespace Emulator.Boot.Tests.Compare;

/// <summary>
/// The boots the compare tests share, two at a time (~30-60 s a pair on a loaded machine): the 2 MB
/// build against itself and against the 4 MB build (on the spot), then Debian's deb12u1 code and the
/// 2 MB build with SEC's entry patched to HLT, and with one DXE driver failing (single boots,
/// compared as reports); every run stops at the Shell banner.
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

        // SEC's entry (the 'sec' milestone's address, in the top of the 4 GiB space) becomes HLT with
        // interrupts off: SEC never decompresses the PEI volume, so PEI and everything after is lost.
        byte[] code = File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M));
        ulong sec = Convert.ToUInt64(Milestone(In("self", "baseline.json"), "sec").GetProperty("address").GetString(), 16);
        SecOffset = (int)(sec - ((1UL << 32) - (ulong)code.Length));
        code[SecOffset] = 0xF4;
        File.WriteAllBytes(In("damaged.fd"), code);
        File.Copy(Fixtures.Path(Fixtures.Vars2M), In("damaged-vars.fd"));
        File.Copy(Fixtures.Path(Fixtures.Vars2M), In("deb12u1-vars.fd"));

        // A DXE driver inside the compressed volume fails at its entry (see FirmwareDamage).
        File.WriteAllBytes(In("damaged-dxe.fd"), FirmwareDamage.FailDxeDriver(File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M)), DamagedDriver));
        File.Copy(Fixtures.Path(Fixtures.Vars2M), In("damaged-dxe-vars.fd"));

        // The two single boots side by side: deb12u1's code, and the damaged build (it halts at once).
        var previous = Task.Run(() => CliRunner.Run(
            "boot", "--code", Fixtures.Path(Fixtures.Code2MDeb12u1), "--vars", In("deb12u1-vars.fd"), "--until", "banner", "--quiet", "--report", In("deb12u1.json")));
        DamagedBoot = CliRunner.Run("boot", "--code", In("damaged.fd"), "--vars", In("damaged-vars.fd"), "--until", "banner", "--quiet", "--report", In("damaged.json"));
        DamagedDxeBoot = CliRunner.Run("boot", "--code", In("damaged-dxe.fd"), "--vars", In("damaged-dxe-vars.fd"), "--until", "banner", "--quiet", "--report", In("damaged-dxe.json"));
        PreviousBoot = previous.Result;

        // deb12u2's run is the self comparison's candidate: the same code, vars and options.
        Updates = CliRunner.Run("compare", In("deb12u1.json"), In("self", "candidate.json"), "--json", In("updates.json"), "--markdown", In("updates.md"));
    }

    public string Dir { get; }

    public CliResult Self { get; }

    public CliResult Sizes { get; }

    public CliResult DamagedBoot { get; }

    /// <summary>The 2 MB build with <see cref="DamagedDriver"/> returning EFI_UNSUPPORTED from its entry.</summary>
    public CliResult DamagedDxeBoot { get; }

    /// <summary>SMBIOS is not needed to reach the Shell; SmbiosPlatformDxe's depex waits for its protocol.</summary>
    public const string DamagedDriver = "SmbiosDxe";

    public CliResult PreviousBoot { get; }

    /// <summary>Debian's previous update (2022.11-6+deb12u1) against the current fixture (+deb12u2).</summary>
    public CliResult Updates { get; }

    public int SecOffset { get; }

    public string In(params string[] parts) => Path.Combine([Dir, .. parts]);

    public static System.Text.Json.JsonElement Milestone(string report, string name) =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("milestones").EnumerateArray()
            .First(m => m.GetProperty("name").GetString() == name);

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
