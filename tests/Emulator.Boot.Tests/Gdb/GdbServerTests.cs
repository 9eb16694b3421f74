using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Emulator.Firmware;

namespace Emulator.Boot.Tests.Gdb;

/// <summary>
/// The gdb server (<c>emu boot --gdb</c>, docs/gdb.md) driven by a real gdb in batch mode on
/// Debian's 2 MB OVMF: attach at the reset vector, step, break at the SEC entry found from the
/// image, read registers and memory, watch a varstore byte until the firmware programs it, detach
/// and let the boot go on; and a raw socket's garbage, damaged and oversized packets, a second
/// client and a disconnect mid-packet, none of which may stop or hang the guest.
/// </summary>
[Trait("Category", "Boot")]
public sealed partial class GdbServerTests
{
    [Fact]
    public void AttachedAtTheResetVector_GdbStepsBreaksInSecAndReadsTheMachine()
    {
        byte[] code = File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M));
        ulong sec = BootEntryPoints.Locate(code).SecEntry ?? throw new InvalidOperationException("no SEC entry in the fixture");
        using var h = new GdbHarness("--gdb-wait", "--max-instructions", "200000000");
        string output = h.RunGdb(
            "p/x $pc", "x/3xb $pc", "stepi", "p/x $pc", $"break *0x{sec:x}", "continue",
            "p/x $pc", "p/x $efer", "p/x $cr0", "monitor milestones", "monitor time", "kill");

        Assert.Contains("$1 = 0xfffffff0", output);
        // The reset vector's bytes are the image's last 16 (QEMU maps the chips downward from 4 GiB).
        Assert.Contains($"0xfffffff0:\t0x{code[^16]:x2}\t0x{code[^15]:x2}\t0x{code[^14]:x2}", output);
        ulong stepped = Value(output, 2);
        Assert.InRange(stepped, 0xFFFFFFF1UL, 0xFFFFFFFFUL);
        Assert.Contains($"Breakpoint 1, 0x{sec:x16} in ?? ()", output);
        Assert.Equal(sec, Value(output, 3));
        Assert.NotEqual(0UL, Value(output, 4) & 0x400); // EFER.LMA: SEC runs in long mode
        Assert.NotEqual(0UL, Value(output, 5) & 0x80000000); // CR0.PG
        Assert.Matches(@"sec\s+boot 0\s+instruction\s+[\d,]+\s+0x" + sec.ToString("x", CultureInfo.InvariantCulture), output);
        Assert.Matches(@"instruction [\d,]+, virtual time", output);
        Assert.NotEqual(0, h.Emu.WaitForExit(TimeSpan.FromSeconds(30))); // gdb's kill ends the run (stopped on request)
    }

    [Fact]
    public void AWatchpointOnTheVarstore_StopsWhenTheFirmwareProgramsTheByte()
    {
        using var h = new GdbHarness("--gdb-wait", "--max-instructions", "2000000000");
        byte[] vars = h.VarsBytes;
        long codeLength = new FileInfo(Fixtures.Path(Fixtures.Code2M)).Length;
        // The first variable's place: after the firmware volume header (its length at 0x30) and
        // the 28-byte variable store header, 4-byte aligned (edk2's VARIABLE_STORE_HEADER).
        int first = (BitConverter.ToUInt16(vars, 0x30) + 0x1C + 3) & ~3;
        Assert.Equal(0xFF, vars[first]);
        ulong address = 0x1_0000_0000UL - (ulong)(codeLength + vars.Length) + (ulong)first;
        string output = h.RunGdb($"watch *(unsigned char*)0x{address:x}", "continue", "monitor info flash", "kill");

        Assert.Contains($"Hardware watchpoint 1: *(unsigned char*)0x{address:x}", output);
        // The first byte of a variable is its StartId's low byte, 0xAA (0x55AA little-endian).
        Assert.Contains("Old value = 255 '\\377'", output);
        Assert.Contains("New value = 170 '\\252'", output);
        Assert.Matches(@"[1-9][\d,]* bytes programmed", output);
    }

    [Fact]
    public void BreakModule_StopsAtTheModulesEntryBeforeItRuns_AndGdbListsTheModulesAsLibraries()
    {
        using var h = new GdbHarness("--gdb-wait", "--max-instructions", "2000000000");
        string output = h.RunGdb("monitor break-module dxecore", "continue", "p/x $pc", "info sharedlibrary", "monitor modules", "monitor milestones", "kill");

        var entry = Regex.Match(output, @"entry 0x([0-9a-f]+)\s+DxeCore\s+DxeCore");
        Assert.True(entry.Success, output);
        Assert.Equal(ulong.Parse(entry.Groups[1].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture), Value(output, 1));
        // Every module started so far is a library gdb lists by name (no symbols: RELEASE build).
        foreach (string module in (string[])["SecMain", "PeiCore", "PlatformPei", "DxeIpl", "DxeCore"])
        {
            Assert.Matches(@"No\s+" + module + @"\r?\n", output);
        }

        // Stopped where the dxe milestone is taken: DxeCore's entry, before its first instruction.
        Assert.Matches(@"dxe\s+boot 0\s+instruction\s+[\d,]+\s+0x" + entry.Groups[1].Value, output);
    }

    [Fact]
    public void DetachingGdb_LeavesTheBootRunningToItsEnd()
    {
        using var h = new GdbHarness("--gdb-wait", "--until", "pei");
        string output = h.RunGdb("p/x $cr0", "detach");
        Assert.Contains("Inferior 1 (Remote target) detached", output);
        Assert.Equal(0, h.Emu.WaitForExit(TimeSpan.FromMinutes(3)));
        Assert.Contains("reached milestone pei", h.Emu.Stderr);
    }

    [Fact]
    public void HostileClients_AreAnsweredAndNeverStopTheGuest()
    {
        using var h = new GdbHarness("--gdb-wait", "--until", "sec");
        using (var client = Connect(h.Port))
        {
            var stream = client.GetStream();
            Send(stream, "garbage without a packet");
            Send(stream, "$qSupported#00");
            Assert.Equal("-", ReadSome(stream, 1));

            Send(stream, "$" + new string('m', 20_000) + "#00");
            Assert.Contains("E.packet too long", ReadUntil(stream, '#'));

            using (var second = Connect(h.Port))
            {
                // One client at a time: the second is closed at once.
                second.ReceiveTimeout = 10_000;
                Assert.Equal(0, second.GetStream().Read(new byte[16]));
            }

            Send(stream, Framed("?"));
            Assert.Contains("T05", ReadUntil(stream, '#'));
            Send(stream, Framed("m0,ffffffff"));
            Assert.Matches(@"\$[0-9a-f]+#", ReadUntil(stream, '#'));
            Send(stream, "$m fff"); // and gone, mid-packet
        }

        // The guest waited for gdb (--gdb-wait); the lost client lets it run on to --until.
        Assert.Equal(0, h.Emu.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("reached milestone sec", h.Emu.Stderr);
    }

    private static ulong Value(string gdbOutput, int history)
    {
        var m = Regex.Match(gdbOutput, $@"\${history} = 0x([0-9a-f]+)");
        Assert.True(m.Success, $"gdb printed no ${history}: {gdbOutput}");
        return ulong.Parse(m.Groups[1].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    private static TcpClient Connect(int port)
    {
        var client = new TcpClient("127.0.0.1", port) { ReceiveTimeout = 30_000 };
        return client;
    }

    private static string Framed(string payload)
    {
        int sum = 0;
        foreach (char c in payload)
        {
            sum += c;
        }

        return $"${payload}#{sum & 0xFF:x2}";
    }

    private static void Send(NetworkStream stream, string text) => stream.Write(Encoding.Latin1.GetBytes(text));

    private static string ReadSome(NetworkStream stream, int count)
    {
        var buffer = new byte[count];
        int n = stream.Read(buffer);
        return Encoding.Latin1.GetString(buffer, 0, n);
    }

    /// <summary>Reads up to and including <paramref name="end"/> and the two checksum digits after it.</summary>
    private static string ReadUntil(NetworkStream stream, char end)
    {
        var text = new StringBuilder();
        int after = -1;
        while (after != 0)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                break;
            }

            text.Append((char)b);
            after = after > 0 ? after - 1 : b == end ? 2 : -1;
        }

        return text.ToString();
    }
}
