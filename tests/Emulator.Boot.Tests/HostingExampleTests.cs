using System.Text;
using Emulator.Hosting;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Reporting;

namespace Emulator.Boot.Tests;

/// <summary>
/// docs/hosting.md's example, compiled and run: a harness boots OVMF through the library alone —
/// no emu process, no argument strings, no report file — with the console in a stream it owns.
/// </summary>
[Trait("Category", "Boot")]
public sealed class HostingExampleTests
{
    [Fact]
    public void AHarnessBootsToTheBannerWithTheConsoleInItsOwnStream()
    {
        using var vars = new TempCopy(Fixtures.Vars2M);
        byte[] before = vars.Bytes;

        // --- docs/hosting.md, "A harness" ---
        var options = new BootOptions
        {
            Code = Fixtures.Path(Fixtures.Code2M),
            Vars = vars.Path,
            Until = "banner",
            Snapshot = true,   // the guest's variable writes last for this run only
        };
        var console = new MemoryStream();
        var session = new BootSession(options, console, TextWriter.Null);
        var reached = new List<string>();
        session.MilestoneReached += m => reached.Add(m.Name);
        RunReport report = session.Run();
        // --- end of the example ---

        Assert.True(session.Succeeded);
        Assert.Equal("until", report.Stop.Reason);
        Assert.Equal(report.Milestones.Select(m => m.Name), reached);
        Assert.Equal("banner", reached[^1]);
        Assert.Contains("UEFI Interactive Shell", Encoding.ASCII.GetString(console.ToArray()));
        Assert.Equal(report.Console!.Bytes, console.Length);

        // The banner's instruction count is the one emu boot reports (docs/performance.md), and
        // snapshot mode left the file alone.
        Assert.Equal(785_589_466, report.Milestones[^1].Instruction);
        Assert.Equal(before, vars.Bytes);
    }

    [Fact]
    public void AStopRequestedBeforeTheRunEndsItAtOnceAsInterrupted()
    {
        var session = new BootSession(new BootOptions { Code = Fixtures.Path(Fixtures.Code2M), Until = "idle" });
        session.Stop.Request();
        var report = session.Run();

        Assert.Equal("interrupted", report.Stop.Reason);
        Assert.False(session.Succeeded);
        Assert.True(report.Instructions < 1_000_000, $"ran {report.Instructions:N0} instructions after the stop");
    }

    [Fact]
    public void BadInputIsOneUsageExceptionBeforeTheGuestRuns()
    {
        var e = Assert.Throws<UsageException>(() => new BootSession(new BootOptions { Code = "/nonexistent/OVMF_CODE.fd" }).Run());
        Assert.Contains("/nonexistent/OVMF_CODE.fd", e.Message);
    }

    [Fact]
    public void ASessionRunsOnce()
    {
        var session = new BootSession(new BootOptions { Code = Fixtures.Path(Fixtures.Code2M), Until = "reset" });
        Assert.Equal("until", session.Run().Stop.Reason);
        Assert.Throws<InvalidOperationException>(() => session.Run());
    }
}
