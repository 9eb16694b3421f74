using System.Text;
using Emulator.Cli.Boot;
using Emulator.Cli;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Serial;
using Emulator.Hosting;

namespace Emulator.Boot.Tests.Qemu;

/// <summary>The serial backends the QEMU front end opens: pty (both directions, QEMU's message), file, null.</summary>
[Trait("Category", "Unit")]
public class SerialBackendTests
{
    [Fact]
    public void PtyCarriesBytesBothWaysOnceTheSlaveIsOpenAndPrintsQemusMessage()
    {
        using var session = new ConsoleSession(new BootOptions(), Stream.Null, HostConsole.None);
        var stderr = new StringWriter();
        using var backends = new SerialBackends(session, stderr);
        var port = backends.Port(new SerialPortSpec(1, new SerialBackend(SerialBackendKind.Pty)));

        string message = stderr.ToString();
        Assert.StartsWith("char device redirected to /dev/pts/", message, StringComparison.Ordinal);
        Assert.EndsWith(" (label serial1)" + Environment.NewLine, message, StringComparison.Ordinal);
        string slave = message["char device redirected to ".Length..message.IndexOf(" (label", StringComparison.Ordinal)];

        // Nobody on the other end yet: output is dropped, not blocking the guest.
        port.Output!((byte)'x');

        using var other = new FileStream(slave, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        foreach (byte b in "COM2>"u8)
        {
            port.Output!(b);
        }

        var read = new byte[5];
        int got = 0;
        while (got < read.Length)
        {
            got += other.Read(read, got, read.Length - got);
        }

        Assert.Equal("COM2>", Encoding.ASCII.GetString(read));

        // Raw mode: CR and ESC arrive as typed.
        other.Write("\x1b\r"u8);
        other.Flush();
        var typed = new List<int>();
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (typed.Count < 2 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            int b = port.Input!();
            if (b >= 0)
            {
                typed.Add(b);
            }
            else
            {
                Thread.Sleep(10);
            }
        }

        Assert.Equal([0x1B, '\r'], typed);
    }

    [Fact]
    public void FileBackendWritesAndFlushesEachLineAndNullHasNoEnds()
    {
        string path = CliRunner.TempFile(".log");
        try
        {
            using var session = new ConsoleSession(new BootOptions(), Stream.Null, HostConsole.None);
            using var backends = new SerialBackends(session, TextWriter.Null);
            var port = backends.Port(new SerialPortSpec(2, new SerialBackend(SerialBackendKind.File, path)));
            foreach (byte b in "line\nrest"u8)
            {
                port.Output!(b);
            }

            using (var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                Assert.Equal("line\n", new StreamReader(reader).ReadToEnd());
            }

            backends.Flush();
            Assert.Equal("line\nrest", File.ReadAllText(path));
            Assert.Null(port.Input);

            var none = backends.Port(new SerialPortSpec(3, SerialBackend.Null));
            Assert.Null(none.Output);
            Assert.Null(none.Input);
            Assert.Equal(3, none.Index);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
