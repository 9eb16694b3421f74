using System.Text.Json;

namespace Emulator.Boot.Tests;

/// <summary>
/// The report's <c>secureBoot</c> (issue 17, "Secure Boot visible"): the firmware's runtime
/// SecureBoot and SetupMode read from its volatile variable store in RAM — inside TSEG for the
/// SMM builds on q35, in normal RAM for the non-SMM build on pc — and the summary line on stderr.
/// </summary>
[Trait("Category", "Boot")]
public class SecureBootStateTests
{
    private const string SecbootCode4M = "OVMF_CODE_4M.secboot.fd";

    [Fact]
    public void MicrosoftKeysEnrolledMeanSecureBootEnabledReadFromSmram()
    {
        var (sb, stderr) = Boot(SecbootCode4M, "OVMF_VARS_4M.ms.fd", "--machine", "q35", "--secure-flash");

        Assert.True(sb.GetProperty("found").GetBoolean());
        Assert.True(sb.GetProperty("inSmram").GetBoolean());
        Assert.Equal(1, sb.GetProperty("secureBoot").GetInt32());
        Assert.Equal(0, sb.GetProperty("setupMode").GetInt32());
        foreach (string key in new[] { "pk", "kek", "db", "dbx" })
        {
            Assert.True(sb.GetProperty(key).GetBoolean(), key);
        }

        Assert.Contains("emu: Secure Boot: enabled (SecureBoot=1, SetupMode=0), PK/KEK/db/dbx enrolled", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBlankStoreLeavesTheSmmBuildInSetupMode()
    {
        var (sb, stderr) = Boot(SecbootCode4M, Fixtures.Vars4M, "--machine", "q35", "--secure-flash");

        Assert.True(sb.GetProperty("inSmram").GetBoolean());
        Assert.Equal(0, sb.GetProperty("secureBoot").GetInt32());
        Assert.Equal(1, sb.GetProperty("setupMode").GetInt32());
        Assert.False(sb.GetProperty("pk").GetBoolean());
        Assert.Contains("emu: Secure Boot: disabled (SecureBoot=0, SetupMode=1), no PK/KEK/db/dbx enrolled", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TheNonSmmBuildKeepsItsVolatileStoreInNormalRam()
    {
        var (sb, _) = Boot(Fixtures.Code4M, Fixtures.Vars4M);

        Assert.True(sb.GetProperty("found").GetBoolean());
        Assert.False(sb.GetProperty("inSmram").GetBoolean());
        Assert.Equal(0, sb.GetProperty("secureBoot").GetInt32());
        Assert.Equal(1, sb.GetProperty("setupMode").GetInt32());
        var stores = sb.GetProperty("stores").EnumerateArray().ToList();
        Assert.Contains(stores, s => s.GetProperty("kind").GetString() == "volatile" && s.GetProperty("address").GetString() == sb.GetProperty("store").GetString());
        Assert.Contains(stores, s => s.GetProperty("kind").GetString() == "nonVolatile");
    }

    [Fact]
    public void BeforeTheVariableDriverThereIsNothingToShow()
    {
        var (sb, stderr) = Boot(Fixtures.Code4M, Fixtures.Vars4M, "--until", "pei");

        Assert.False(sb.GetProperty("found").GetBoolean());
        Assert.Equal(JsonValueKind.Null, sb.GetProperty("secureBoot").ValueKind);
        Assert.Contains("emu: Secure Boot: not found", stderr, StringComparison.Ordinal);
    }

    private static (JsonElement SecureBoot, string Stderr) Boot(string code, string vars, params string[] options)
    {
        string report = CliRunner.TempFile(".json");
        try
        {
            string[] until = options.Contains("--until") ? [] : ["--until", "idle"];
            var r = CliRunner.Run(["boot", "--code", Fixtures.Path(code), "--vars", Fixtures.Path(vars), "--snapshot", "--no-status", "--report", report, .. until, .. options]);
            Assert.Equal(0, r.ExitCode);
            return (r.Report!.RootElement.GetProperty("secureBoot").Clone(), r.Stderr);
        }
        finally
        {
            File.Delete(report);
        }
    }
}
