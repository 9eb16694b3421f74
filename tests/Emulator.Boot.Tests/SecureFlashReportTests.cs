namespace Emulator.Boot.Tests;

/// <summary>
/// <c>emu boot --secure-flash</c> end to end: a guest outside SMM tries to program the flash,
/// the chip refuses (QEMU pflash_cfi01 secure=on), and the run report and the summary on stderr
/// say so (issue 17's SMM figures).
/// </summary>
[Trait("Category", "Unit")]
public sealed class SecureFlashReportTests
{
    /// <summary>A 64 KiB code image whose reset vector writes 0x10, 0x42 to its own chip (CS-relative), then CLI; HLT.</summary>
    private static byte[] CodeImage()
    {
        var code = new byte[0x10000];
        byte[] reset = [0x2E, 0xC6, 0x06, 0x00, 0x01, 0x10, 0x2E, 0xC6, 0x06, 0x00, 0x01, 0x42, 0xFA, 0xF4];
        reset.CopyTo(code, 0xFFF0);
        return code;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RefusedNonSmmWritesReachTheReportAndTheSummary(bool secure)
    {
        string code = CliRunner.TempFile(".fd");
        string report = CliRunner.TempFile(".json");
        File.WriteAllBytes(code, CodeImage());
        try
        {
            string[] args = ["boot", "--code", code, "--report", report, "--no-status", "--pace", "off", "--max-instructions", "1000"];
            var r = CliRunner.Run(secure ? [.. args, "--secure-flash"] : args);
            var root = r.Report!.RootElement;
            var smm = root.GetProperty("smm");
            var unit0 = root.GetProperty("machine").GetProperty("flash")[0];
            Assert.Equal("pc-i440fx", root.GetProperty("machine").GetProperty("type").GetString());
            Assert.Equal("qemu64", root.GetProperty("machine").GetProperty("cpu").GetString());
            Assert.Equal(secure, unit0.GetProperty("secure").GetBoolean());
            Assert.Equal(0, smm.GetProperty("entries").GetInt64());
            Assert.Equal(0, smm.GetProperty("flashWritesFromSmm").GetInt64());
            Assert.Equal(secure ? 2 : 0, smm.GetProperty("rejectedFlashWrites").GetInt64());
            Assert.Equal(secure ? 2 : 0, unit0.GetProperty("rejectedWrites").GetInt64());
            if (secure)
            {
                Assert.Contains("SMM: 0 SMI(s), 0 instructions in SMM; flash writes from SMM 0, refused outside SMM 2", r.Stderr, StringComparison.Ordinal);
            }
            else
            {
                Assert.DoesNotContain("SMM:", r.Stderr, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(code);
            File.Delete(report);
        }
    }
}
