using System.Buffers;
using System.Text;
using System.Xml.Linq;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Hosting.Gdb;

namespace Emulator.Hosting.Tests.Gdb;

/// <summary>
/// The gdb remote protocol below the socket: framing (checksums, escapes, noise, packets split
/// across reads, oversized ones), the stub's commands on a bare machine (registers, memory,
/// breakpoints, watchpoints, the target description), and a fixed-seed protocol fuzz of random
/// and truncated input that must never throw. The real gdb drives the server in
/// Emulator.Boot.Tests' GdbServerTests.
/// </summary>
[Trait("Category", "Unit")]
public sealed class GdbProtocolTests
{
    [Fact]
    public void Framing_TakesPacketsAcksAndInterruptsAndSkipsNoise()
    {
        var inputs = Read("xx+$g#67-\u0003$m10,4#2e$M0,1:00#00");
        Assert.Equal(
            [GdbInputKind.Ack, GdbInputKind.Packet, GdbInputKind.Nack, GdbInputKind.Interrupt, GdbInputKind.Packet, GdbInputKind.BadChecksum],
            inputs.Select(i => i.Kind));
        Assert.Equal("g", inputs[1].Text);
        Assert.Equal("m10,4", inputs[4].Text);
    }

    [Fact]
    public void Framing_WaitsForTheRestOfASplitPacketAndUnescapesBinaryData()
    {
        byte[] framed = GdbFraming.Frame([(byte)'X', (byte)'#', (byte)'}', (byte)'$', (byte)'*', 0x41]);
        Assert.Equal("$X}\u0003}]}\u0004}\nA#", Encoding.Latin1.GetString(framed[..^2]));
        for (int split = 1; split < framed.Length; split++)
        {
            var buffer = new ReadOnlySequence<byte>(framed[..split]);
            Assert.False(GdbFraming.TryRead(ref buffer, out _));
            Assert.Equal(split, buffer.Length); // nothing consumed: the whole packet is still to come
            buffer = new ReadOnlySequence<byte>(framed);
            Assert.True(GdbFraming.TryRead(ref buffer, out var input));
            Assert.Equal(GdbInputKind.Packet, input.Kind);
            Assert.Equal("X#}$*A", input.Text);
        }
    }

    [Fact]
    public void Framing_RefusesAnOversizedPacketWithoutBufferingIt()
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes("$" + new string('a', GdbFraming.MaxPayload + 10)));
        Assert.True(GdbFraming.TryRead(ref buffer, out var input));
        Assert.Equal(GdbInputKind.TooLong, input.Kind);
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void Stub_ReadsAndWritesRegistersAndRam()
    {
        using var m = new BareMachine();
        m.Cpu.SetGpr(Gpr.Rbx, 0x1122334455667788);
        var stub = new GdbStub(m.Cpu, null);
        Assert.Equal("8877665544332211", stub.Handle("p1").Reply); // gdb's register 1 is RBX
        Assert.Equal("OK", stub.Handle("P2=0100000000000000").Reply); // RCX
        Assert.Equal(1UL, m.Cpu.GetGpr(Gpr.Rcx));
        string all = stub.Handle("g").Reply!;
        Assert.Equal("OK", stub.Handle("G" + all).Reply); // what gdb read back, written back
        Assert.StartsWith("E.", stub.Handle("P12=9900000000000000").Reply); // CS is read-only here
        Assert.Equal("OK", stub.Handle("M2000,4:deadbeef").Reply);
        Assert.Equal("deadbeef", stub.Handle("m2000,4").Reply);
        Assert.Equal("OK", stub.Handle("X2004,2:\u0001\u0002").Reply);
        Assert.Equal(0x0201UL, m.Bus.Read(0x2004, 2));
        Assert.Equal("E14", stub.Handle("mfffff000,4").Reply); // beyond RAM: an error, no device touched
        Assert.Equal(string.Empty, stub.Handle("vNoSuchThing").Reply);
        Assert.StartsWith("E.", stub.Handle("mzz,4").Reply);
    }

    [Fact]
    public void Stub_SetsAndRemovesBreakpointsAndWatchpoints()
    {
        using var m = new BareMachine();
        var stub = new GdbStub(m.Cpu, null);
        Assert.Equal("OK", stub.Handle("Z0,100010,1").Reply);
        Assert.True(stub.IsBreakpoint(0x100010));
        Assert.Equal("OK", stub.Handle("z0,100010,1").Reply);
        Assert.False(stub.IsBreakpoint(0x100010));
        Assert.Equal("OK", stub.Handle("Z2,3000,4").Reply);
        Assert.Equal(new HostWatchpoint(0x3000, 4, WatchKind.Write), Assert.Single(m.Cpu.HostWatchpoints));
        Assert.Equal("OK", stub.Handle("Z4,3008,1").Reply);
        stub.ClearPoints();
        Assert.Empty(m.Cpu.HostWatchpoints);
        Assert.Equal((null, GdbResume.Step), stub.Handle("vCont;s:1"));
        Assert.Equal((null, GdbResume.Continue), stub.Handle("c"));
    }

    [Theory]
    [InlineData(true, "i386:x86-64", "rip", 16)]
    [InlineData(false, "i386", "eip", 8)]
    public void TheTargetDescription_IsGdbsI386FeaturesWithOneLayoutPerModel(bool longMode, string architecture, string pc, int xmms)
    {
        var file = longMode ? GdbRegisterFile.X86_64 : GdbRegisterFile.I386;
        var xml = XDocument.Parse(file.TargetXml);
        Assert.Equal(architecture, xml.Root!.Element("architecture")!.Value);
        var features = xml.Root.Elements("feature").Select(f => f.Attribute("name")!.Value).ToList();
        Assert.Equal(["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments", "org.emu.x86.system"], features);
        var names = xml.Descendants("reg").Select(r => r.Attribute("name")!.Value).ToList();
        Assert.Equal(file.Count, names.Count);
        Assert.Equal(pc, names[longMode ? 16 : 8]);
        Assert.Equal(xmms, names.Count(n => n.StartsWith("xmm", StringComparison.Ordinal)));
        Assert.Contains("cr3", names);
        Assert.Contains("cs_base", names);
    }

    [Fact]
    public void TheTargetDescription_IsReadInPieces()
    {
        using var m = new BareMachine();
        var stub = new GdbStub(m.Cpu, null);
        var text = new StringBuilder();
        for (int offset = 0; ;)
        {
            string reply = stub.Handle($"qXfer:features:read:target.xml:{offset:x},40").Reply!;
            text.Append(reply[1..]);
            offset += reply.Length - 1;
            if (reply[0] == 'l')
            {
                break;
            }

            Assert.Equal('m', reply[0]);
            Assert.Equal(0x40, reply.Length - 1);
        }

        Assert.Equal(GdbRegisterFile.X86_64.TargetXml, text.ToString());
    }

    [Fact]
    public void TheLibraryList_NamesEveryModuleAtItsImage()
    {
        using var m = new BareMachine();
        var modules = new List<GdbLibrary> { new("PeiCore", 0x820140), new("A&B<Dxe>", 0xFEFB000) };
        var stub = new GdbStub(m.Cpu, null, () => modules);
        Assert.Contains("qXfer:libraries:read+", stub.Handle("qSupported:xmlRegisters=i386").Reply);
        var xml = XDocument.Parse(stub.Handle("qXfer:libraries:read::0,fff").Reply![1..]);
        Assert.Equal(
            ["PeiCore@0x820140", "A&B<Dxe>@0xfefb000"],
            xml.Root!.Elements("library").Select(l => l.Attribute("name")!.Value + "@" + l.Element("segment")!.Attribute("address")!.Value));
        Assert.Equal("T05library:;thread:01;", stub.StopReply(librariesChanged: true));
        Assert.DoesNotContain("libraries", new GdbStub(m.Cpu, null).Handle("qSupported").Reply);
    }

    [Fact]
    public void ReverseExecution_IsOfferedWhenEnabled_AndTheChangesHistoryCannotHoldAreKnown()
    {
        using var m = new BareMachine();
        var stub = new GdbStub(m.Cpu, null, reverse: true);
        Assert.Contains("ReverseStep+;ReverseContinue+", stub.Handle("qSupported").Reply);
        Assert.Equal((null, GdbResume.ReverseStep), stub.Handle("bs"));
        Assert.Equal((null, GdbResume.ReverseContinue), stub.Handle("bc"));
        Assert.Equal((string.Empty, GdbResume.None), stub.Handle("bx"));

        var plain = new GdbStub(m.Cpu, null);
        Assert.DoesNotContain("Reverse", plain.Handle("qSupported").Reply);
        Assert.Equal((string.Empty, GdbResume.None), plain.Handle("bs"));

        foreach (string change in (string[])["G00", "P0=01", "M10,1:00", "X10,1:a", "c100", "s100"])
        {
            Assert.True(GdbStub.ChangesMachine(change), change);
        }

        foreach (string look in (string[])["g", "p0", "m10,4", "c", "s", "vCont;c", "Z0,10,1", "bs", string.Empty])
        {
            Assert.False(GdbStub.ChangesMachine(look), look);
        }
    }

    [Fact]
    public void RandomAndTruncatedInput_IsAnsweredWithoutAnException()
    {
        using var m = new BareMachine();
        var stub = new GdbStub(m.Cpu, command => "ok " + command);
        var random = new Random(21);
        string[] verbs = ["g", "G", "p", "P", "m", "M", "X", "Z0,", "z2,", "Z3,", "qXfer:features:read:target.xml:", "qRcmd,", "vCont;", "H", "?", "qSupported:", "s", "c"];
        const string alphabet = "0123456789abcdefABCDEF,:;=#$}*xyz \u0003";
        for (int i = 0; i < 5000; i++)
        {
            var packet = new StringBuilder(verbs[random.Next(verbs.Length)]);
            int length = random.Next(0, 40);
            for (int j = 0; j < length; j++)
            {
                packet.Append(alphabet[random.Next(alphabet.Length)]);
            }

            var (reply, resume) = stub.Handle(packet.ToString());
            Assert.True(reply != null || resume != GdbResume.None, packet.ToString());

            // The same bytes framed, cut at random and with noise around: framing never throws either.
            byte[] framed = GdbFraming.Frame(Encoding.Latin1.GetBytes(packet.ToString()));
            var cut = new ReadOnlySequence<byte>(framed[..random.Next(framed.Length + 1)]);
            while (GdbFraming.TryRead(ref cut, out _))
            {
            }
        }

        stub.ClearPoints();
    }

    private static List<GdbInput> Read(string text)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text));
        var inputs = new List<GdbInput>();
        while (GdbFraming.TryRead(ref buffer, out var input))
        {
            inputs.Add(input);
        }

        return inputs;
    }
}
