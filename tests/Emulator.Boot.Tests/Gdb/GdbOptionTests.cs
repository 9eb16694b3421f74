using System.Net;
using Emulator.Cli.CommandLine;
using Emulator.Hosting;

namespace Emulator.Boot.Tests.Gdb;

/// <summary><c>emu boot --gdb/--gdb-wait/--symbols</c>: where the server listens (loopback unless an address is given) and the usage errors.</summary>
[Trait("Category", "Unit")]
public sealed class GdbOptionTests
{
    [Fact]
    public void GdbListensOnLoopbackUnlessAnAddressIsGiven()
    {
        var o = BootOptionsParser.Parse(["--code", "c.fd", "--gdb", "tcp::1234", "--gdb-wait"]);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 1234), o.Gdb);
        Assert.True(o.GdbWait);
        Assert.False(o.HangDetection); // a guest a person debugs is never stopped as hung
        Assert.Equal(new IPEndPoint(IPAddress.Any, 7), BootOptionsParser.Parse(["--code", "c.fd", "--gdb", "tcp:0.0.0.0:7"]).Gdb);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0), BootOptionsParser.Parse(["--code", "c.fd", "--gdb", "0"]).Gdb);
        Assert.Null(BootOptionsParser.Parse(["--code", "c.fd"]).Gdb);
    }

    [Theory]
    [InlineData(new[] { "--gdb-wait" }, "--gdb-wait needs --gdb (where gdb attaches)")]
    [InlineData(new[] { "--symbols", "/tmp" }, "--symbols needs --gdb (the symbols are gdb's)")]
    [InlineData(new[] { "--gdb", "tcp::99999" }, "--gdb tcp::99999: expected tcp::PORT, tcp:HOST:PORT or PORT (a TCP port 0-65535)")]
    [InlineData(new[] { "--gdb", "tcp:" }, "--gdb tcp:: expected tcp::PORT, tcp:HOST:PORT or PORT (a TCP port 0-65535)")]
    [InlineData(new[] { "--gdb", "tcp:example.org:1" }, "--gdb tcp:example.org:1: 'example.org' is not an IP address (give one, e.g. tcp:0.0.0.0:1)")]
    public void BadGdbOptionsAreUsageErrors(string[] args, string message) =>
        Assert.Equal(message, Assert.Throws<UsageException>(() => BootOptionsParser.Parse(["--code", "c.fd", .. args])).Message);

    [Fact]
    public void SymbolsFromAFolderThatDoesNotExist_AreAOneLineErrorBeforeTheBoot()
    {
        using var vars = new TempCopy(Fixtures.Vars2M);
        byte[] before = vars.Bytes;
        var r = CliRunner.Run("boot", "--code", Fixtures.Path(Fixtures.Code2M), "--vars", vars.Path, "--gdb", "tcp::0", "--symbols", "/no/such/build");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--symbols /no/such/build: no such directory", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal(before, vars.Bytes);
    }
}
