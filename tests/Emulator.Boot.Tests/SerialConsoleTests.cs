using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Boot.Tests;

/// <summary>
/// A tiny firmware image of our own, assembled at test time: its reset vector prints through
/// COM1 and halts. The bytes must appear on stdout — and nothing else may.
/// </summary>
[Trait("Category", "Unit")]
public class SerialConsoleTests
{
    private static string BuildImage(string text)
    {
        // 64 KiB mapped at 0xFFFF0000; real-mode CS base 0xFFFF0000, so offsets are IPs.
        const ulong codeAt = 0xF000;
        var a = new Assembler(16);
        a.mov(dx, 0x3F8);
        foreach (char c in text)
        {
            a.mov(al, (byte)c);
            a.@out(dx, al);
        }

        a.cli();
        a.hlt();
        var body = new MemoryStream();
        a.Assemble(new StreamCodeWriter(body), codeAt);

        var image = new byte[0x10000];
        image.AsSpan().Fill(0xFF);
        body.ToArray().CopyTo(image, (int)codeAt);

        // Reset vector at 0xFFF0: jmp near to 0xF000.
        var reset = new Assembler(16);
        reset.jmp(codeAt);
        var jump = new MemoryStream();
        reset.Assemble(new StreamCodeWriter(jump), 0xFFF0);
        jump.ToArray().CopyTo(image, 0xFFF0);

        string path = CliRunner.TempFile(".fd");
        File.WriteAllBytes(path, image);
        return path;
    }

    [Fact]
    public void BytesWrittenToCom1AppearOnStdoutAndOnlyThere()
    {
        string image = BuildImage("Hello, firmware\n");
        string report = CliRunner.TempFile(".json");
        try
        {
            var r = CliRunner.Run("boot", "--firmware", image, "--report", report, "--max-instructions", "1000");
            Assert.Equal("Hello, firmware\n", r.Stdout);
            Assert.Equal(1, r.ExitCode);
            var stop = r.Report!.RootElement.GetProperty("stop");
            Assert.Equal("halted", stop.GetProperty("reason").GetString());
            Assert.Contains("stopped: halted", r.Stderr, StringComparison.Ordinal);

            // The registers where it halted: the port in DX (EDX's upper half keeps the reset
            // value, the CPU signature), the last character in AL, CS as at reset.
            var registers = stop.GetProperty("registers");
            ulong Register(string name) => Convert.ToUInt64(registers.GetProperty(name).GetString(), 16);
            Assert.Equal(0x3F8UL, Register("rdx") & 0xFFFF);
            Assert.Equal((ulong)'\n', Register("rax"));
            Assert.Equal("0xF000", registers.GetProperty("cs").GetString());
            Assert.Equal(stop.GetProperty("address").GetString(), $"0x{0xFFFF0000 + Register("rip"):X}");
        }
        finally
        {
            File.Delete(image);
            File.Delete(report);
        }
    }
}
