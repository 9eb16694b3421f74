using System.Text;
using Emulator.Hosting.Bench;
using Emulator.Cli.Boot;
using Emulator.Core.Devices.CfiFlash;
using Emulator.Hosting.Boot;

namespace Emulator.Boot.Tests;

/// <summary><c>boot --flash-log</c>: every completed program and erase, in order, with the writing instruction's index.</summary>
[Trait("Category", "Unit")]
public class FlashLogTests
{
    [Fact]
    public void LogsEveryOperationOfTheWorkloadInGuestOrder()
    {
        var workload = new FlashWorkload(2 * FlashWorkload.BlockSize, 2);
        var (code, vars) = (CliRunner.TempFile(".fd"), CliRunner.TempFile(".fd"));
        string log = CliRunner.TempFile(".log");
        File.WriteAllBytes(code, workload.BuildCodeImage());
        File.WriteAllBytes(vars, workload.BuildVarsImage());
        try
        {
            var r = CliRunner.Run("boot", "--code", code, "--vars", vars, "--flash-log", log, "--snapshot", "--quiet");
            Assert.Equal(0, r.ExitCode);

            var entries = FlashLogFile.Read(log);
            var expected = workload.Operations().ToList();
            Assert.Equal(expected.Count, entries.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Kind == FlashWriteKind.Erase ? "erase" : "program", entries[i].Op);
                Assert.Equal(expected[i].Offset, entries[i].Offset);
                Assert.Equal(expected[i].Data, entries[i].New);
                Assert.Equal("pflash1", entries[i].Chip);
            }

            // Strictly increasing: one operation per writing instruction in this program.
            Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.Instruction < p.Second.Instruction));
            FlashLogFile.Replay(workload.BuildVarsImage(), entries, "pflash1");
        }
        finally
        {
            File.Delete(code);
            File.Delete(vars);
            File.Delete(log);
        }
    }

    [Fact]
    public void TwoRunsGiveIdenticalLogs()
    {
        var workload = new FlashWorkload(FlashWorkload.BlockSize, 3);
        var (code, vars) = (CliRunner.TempFile(".fd"), CliRunner.TempFile(".fd"));
        var logs = new[] { CliRunner.TempFile(".log"), CliRunner.TempFile(".log") };
        File.WriteAllBytes(code, workload.BuildCodeImage());
        File.WriteAllBytes(vars, workload.BuildVarsImage());
        try
        {
            foreach (var log in logs)
            {
                Assert.Equal(0, CliRunner.Run("boot", "--code", code, "--vars", vars, "--flash-log", log, "--snapshot", "--quiet").ExitCode);
            }

            Assert.Equal(File.ReadAllBytes(logs[0]), File.ReadAllBytes(logs[1]));
        }
        finally
        {
            File.Delete(code);
            File.Delete(vars);
            Array.ForEach(logs, File.Delete);
        }
    }

    [Theory]
    [InlineData(new byte[] { }, "")]
    [InlineData(new byte[] { 0xFF }, "ff")]
    [InlineData(new byte[] { 1, 1, 1, 1, 1, 1, 1 }, "01010101010101")]
    [InlineData(new byte[] { 0xAB, 1, 1, 1, 1, 1, 1, 1, 1, 0xCD }, "ab{01*8}cd")]
    public void BytesFoldLongRunsAndParseBack(byte[] bytes, string text)
    {
        var sb = new StringBuilder();
        FlashWriteLog.AppendBytes(sb, bytes);
        Assert.Equal(text, sb.ToString());
        Assert.Equal(bytes, FlashWriteLog.ParseBytes(text));
    }
}
