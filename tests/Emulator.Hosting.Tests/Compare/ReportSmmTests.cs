using System.Text.Json;
using System.Text.Json.Nodes;
using Emulator.Hosting.Compare;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Tests.Compare;

/// <summary>
/// The SMM figures of the run report (issue 17): written, read back, compared, and absent from
/// reports written before them without breaking <c>emu compare</c>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReportSmmTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("emu-report-smm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RunReport Report(SmmInfo? smm, string type = "pc-q35", string cpu = "qemu64") =>
        MinimalReports.Q35([new FlashInfo(1, "vars", "0xFFE00000", 0x20000, false, 10, 1, true, 30, 4)], type, cpu) with { Smm = smm };

    private string Save(RunReport report, string name)
    {
        string path = Path.Combine(_dir, name);
        ReportFile.Save(path, report);
        return path;
    }

    [Fact]
    public void SmmFiguresRoundTripThroughTheJsonReport()
    {
        var loaded = ReportFile.Load(Save(Report(new SmmInfo(5, 12_345, 30, 4), cpu: "qemu32"), "r.json"));
        Assert.Equal(new SmmInfo(5, 12_345, 30, 4), loaded.Smm);
        Assert.Equal("pc-q35", loaded.Machine.Type);
        Assert.Equal("qemu32", loaded.Machine.Cpu);
        Assert.True(loaded.Machine.Smm);
        var flash = Assert.Single(loaded.Machine.Flash);
        Assert.True(flash.Secure);
        Assert.Equal(30, flash.SmmWrites);
        Assert.Equal(4, flash.RejectedWrites);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "r.json")))!;
        Assert.Equal(12_345, json["smm"]!["instructions"]!.GetValue<long>());
        Assert.Equal(30, json["smm"]!["flashWritesFromSmm"]!.GetValue<long>());
        Assert.Equal(4, json["smm"]!["rejectedFlashWrites"]!.GetValue<long>());
    }

    [Fact]
    public void AReportWrittenBeforeTheSmmFieldsStillLoadsAndCompares()
    {
        // An old report: no "smm", and machine/flash entries without the new fields.
        var json = JsonNode.Parse(JsonSerializer.Serialize(Report(null, "pc-i440fx"), ReportFile.Json))!;
        json.AsObject().Remove("smm");
        var machine = json["machine"]!.AsObject();
        machine.Remove("cpu");
        machine.Remove("smm");
        foreach (var f in machine["flash"]!.AsArray())
        {
            f!.AsObject().Remove("secure");
            f.AsObject().Remove("smmWrites");
            f.AsObject().Remove("rejectedWrites");
        }

        string old = Path.Combine(_dir, "old.json");
        File.WriteAllText(old, json.ToJsonString());
        var loaded = ReportFile.Load(old);
        Assert.Null(loaded.Smm);
        Assert.Equal("qemu64", loaded.Machine.Cpu);
        Assert.Equal(0, loaded.Machine.Flash[0].SmmWrites);

        var same = ReportComparer.Compare(loaded, loaded, 1);
        Assert.Null(same.Smm);
        Assert.Equal("same", same.Verdict);

        var withSmm = ReportFile.Load(Save(Report(new SmmInfo(3, 900, 10, 0)), "new.json"));
        var c = ReportComparer.Compare(loaded, withSmm, 1);
        Assert.NotNull(c.Smm);
        Assert.Equal(new Side<long>(0, 3), c.Smm!.Entries);
        Assert.Equal(new Side<long>(0, 900), c.Smm.Instructions);
        Assert.Equal("different", c.Verdict);

        var text = new StringWriter();
        ComparisonText.WriteSideBySide(text, c, "old.json", "new.json");
        Assert.Contains("instructions in SMM", text.ToString());
        var markdown = new StringWriter();
        ComparisonText.WriteMarkdown(markdown, c, "old.json", "new.json");
        Assert.Contains("| SMIs / instructions in SMM | 0 / 0 | 3 / 900 | changed |", markdown.ToString());
    }

    [Fact]
    public void ReportsWithoutSmmActivityPrintNoSmmRows()
    {
        var c = ReportComparer.Compare(Report(new SmmInfo(0, 0, 0, 0)), Report(null), 1);
        Assert.Null(c.Smm);
        var text = new StringWriter();
        ComparisonText.WriteSideBySide(text, c, "a", "b");
        Assert.DoesNotContain("SMM", text.ToString());
    }
}
