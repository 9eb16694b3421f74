using System.IO.Compression;
using System.Runtime.CompilerServices;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Cpu.Float;

/// <summary>
/// F2XM1, FYL2X, FYL2XP1 and FPATAN against QEMU 7.2: Data/x87-transcendental-vectors.txt.gz holds
/// what QEMU left after each of a few thousand cases per instruction (edge operands × every RC,
/// random operands and FCW; <see cref="X87TranscendentalCases"/>), recorded by running the cases'
/// program on qemu-system-x86_64 (<see cref="X87TranscendentalRecorder"/>). emu runs the same
/// program (interpreted, and compiled under EMU_TEST_COMPILE_ALL=1) and must leave the same FSW,
/// tag word and registers. EMU_RECORD_X87_TRANSCENDENTALS=1 re-records the file (docs/x87.md).
/// </summary>
[Trait("Category", "Unit")]
public class X87TranscendentalVectorTests
{
    private const string FileName = "x87-transcendental-vectors.txt.gz";

    private static string SourceDataPath([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "Data", FileName);

    private static string OutputDataPath => Path.Combine(AppContext.BaseDirectory, "Cpu", "Float", "Data", FileName);

    private static List<X87TranscendentalVector> Recorded(X87Transcendental op, string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var vectors = new List<X87TranscendentalVector>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                var v = X87TranscendentalVector.Parse(line);
                if (v.Op == op)
                {
                    vectors.Add(v);
                }
            }
        }

        return vectors;
    }

    [Theory]
    [InlineData(X87Transcendental.F2xm1)]
    [InlineData(X87Transcendental.Fyl2x)]
    [InlineData(X87Transcendental.Fyl2xp1)]
    [InlineData(X87Transcendental.Fpatan)]
    public void EmuLeavesWhatQemuLeft(X87Transcendental op)
    {
        var recorded = Recorded(op, OutputDataPath);
        Assert.True(recorded.Count >= 2000, $"{recorded.Count} {op} vectors");
        var cases = recorded.Select(v => (v.Control, v.St0, v.St1)).ToList();
        using var m = new TestMachine();
        m.Load(X87TranscendentalCases.InputBase, X87TranscendentalCases.InputImage(cases));
        m.LoadReal(a => X87TranscendentalCases.Program(a, op, cases.Count));
        m.Run(50_000_000);
        Assert.Equal(0, m.Port.ExitCode);
        byte[] output = [.. m.Port.Bytes];
        Assert.Equal(cases.Count * X87TranscendentalCases.SaveImageBytes, output.Length);
        var mismatches = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var ours = X87TranscendentalCases.FromSaveImage(op, cases[i], output.AsSpan(i * X87TranscendentalCases.SaveImageBytes, X87TranscendentalCases.SaveImageBytes));
            if (ours != recorded[i])
            {
                mismatches.Add($"qemu {recorded[i].Format()}\n emu {ours.Format()}");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} differ:\n" + string.Join('\n', mismatches.Take(12)));
    }

    /// <summary>The file's operands are the generator's, in order, so it can be regenerated; with EMU_RECORD_X87_TRANSCENDENTALS=1 QEMU records it again first.</summary>
    [Fact]
    public void DataFile_HoldsTheGeneratorsCases()
    {
        if (Environment.GetEnvironmentVariable("EMU_RECORD_X87_TRANSCENDENTALS") == "1")
        {
            using var writer = new StreamWriter(new GZipStream(File.Create(SourceDataPath()), CompressionLevel.SmallestSize));
            writer.WriteLine("# op fcw st0 st1 -> fsw ftw st0 st1 st7 (after FNSAVE), recorded from qemu-system-x86_64 7.2 (docs/x87.md)");
            foreach (var op in Enum.GetValues<X87Transcendental>())
            {
                foreach (var v in X87TranscendentalRecorder.Record(op))
                {
                    writer.WriteLine(v.Format());
                }
            }
        }

        foreach (var op in Enum.GetValues<X87Transcendental>())
        {
            var expected = X87TranscendentalCases.Generate(op).ToList();
            var recorded = Recorded(op, SourceDataPath()).Select(v => (v.Control, v.St0, v.St1)).ToList();
            Assert.Equal(expected, recorded);
        }
    }
}
