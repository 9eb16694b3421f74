using System.Text.Json;
using System.Text.Json.Nodes;
using Emulator.Hosting.Compare;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Tests.Compare;

/// <summary>
/// The run report's <c>secureBoot</c> (issue 17): written, read back, absent from reports written
/// before it without breaking <c>emu compare</c>, and its one summary line.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReportSecureBootTests : IDisposable
{
    private static readonly SecureBootInfo Enforcing = new(
        true, "0xFA25018", true, 1, 0, null, null, 0, true, true, true, true,
        [new RamStoreInfo("0xFA25018", true, "volatile", 0x80000, 13), new RamStoreInfo("0xFAE6060", true, "nonVolatile", 0x3FFB8, 32)]);

    private readonly string _dir = Directory.CreateTempSubdirectory("emu-report-sb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RunReport Report(SecureBootInfo? secureBoot) => MinimalReports.Q35() with { SecureBoot = secureBoot };

    [Fact]
    public void SecureBootRoundTripsThroughTheJsonReport()
    {
        string path = Path.Combine(_dir, "r.json");
        ReportFile.Save(path, Report(Enforcing));

        var loaded = ReportFile.Load(path).SecureBoot!;
        Assert.Equal(Enforcing with { Stores = [] }, loaded with { Stores = [] });
        Assert.Equal(Enforcing.Stores, loaded.Stores);
        var json = JsonNode.Parse(File.ReadAllText(path))!["secureBoot"]!;
        Assert.Equal(1, json["secureBoot"]!.GetValue<int>());
        Assert.Equal(0, json["setupMode"]!.GetValue<int>());
        Assert.True(json["inSmram"]!.GetValue<bool>());
        Assert.Equal("volatile", json["stores"]![0]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public void AReportWrittenBeforeSecureBootStillLoadsAndCompares()
    {
        var json = JsonNode.Parse(JsonSerializer.Serialize(Report(Enforcing), ReportFile.Json))!;
        json.AsObject().Remove("secureBoot");
        string old = Path.Combine(_dir, "old.json");
        File.WriteAllText(old, json.ToJsonString());

        var loaded = ReportFile.Load(old);

        Assert.Null(loaded.SecureBoot);
        Assert.Equal("same", ReportComparer.Compare(loaded, Report(Enforcing), 1).Verdict);
    }

    [Fact]
    public void TheSummaryLineSaysEnabledDisabledOrNotFound()
    {
        Assert.Equal("Secure Boot: enabled (SecureBoot=1, SetupMode=0), PK/KEK/db/dbx enrolled", ReportSecureBoot.Summary(Enforcing));
        var setup = Enforcing with { SecureBoot = 0, SetupMode = 1, Pk = false, Kek = false, Db = false, Dbx = false };
        Assert.Equal("Secure Boot: disabled (SecureBoot=0, SetupMode=1), no PK/KEK/db/dbx enrolled", ReportSecureBoot.Summary(setup));
        Assert.Equal("Secure Boot: disabled (SecureBoot=0, SetupMode=0), PK, KEK enrolled, no db, dbx", ReportSecureBoot.Summary(setup with { SetupMode = 0, Pk = true, Kek = true }));
        var none = new SecureBootInfo(false, null, false, null, null, null, null, null, false, false, false, false, []);
        Assert.StartsWith("Secure Boot: not found", ReportSecureBoot.Summary(none));
    }
}
