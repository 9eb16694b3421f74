using System.Diagnostics;
using Emulator.Core.Cpu.Float;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Cpu.Float;

/// <summary>
/// Runs <see cref="X87TranscendentalCases.Program"/> on QEMU 7.2 (qemu-system-x86_64 -cpu qemu64,
/// TCG) as a 64 KiB BIOS image, the case records loaded at 0x10000 by QEMU's generic loader, the
/// FNSAVE images read from its debugcon (port 0xE9) and the run ended by isa-debug-exit at 0xF4.
/// Regenerating the data file: docs/x87.md, "Transcendentals".
/// </summary>
public static class X87TranscendentalRecorder
{
    private const int RomSize = 0x10000;

    public static List<X87TranscendentalVector> Record(X87Transcendental op, string qemu = "qemu-system-x86_64")
    {
        var cases = X87TranscendentalCases.Generate(op).ToList();
        string dir = Directory.CreateTempSubdirectory("x87-transcendental-").FullName;
        try
        {
            // The code at F000:0000, a far jump to it at the reset vector F000:FFF0.
            var rom = new byte[RomSize];
            TestMachine.Assemble(16, 0, a => X87TranscendentalCases.Program(a, op, cases.Count)).CopyTo(rom, 0);
            byte[] reset = [0xEA, 0x00, 0x00, 0x00, 0xF0];
            reset.CopyTo(rom, 0xFFF0);
            string romPath = Path.Combine(dir, "rom.bin"), inputPath = Path.Combine(dir, "cases.bin"), outputPath = Path.Combine(dir, "out.bin");
            File.WriteAllBytes(romPath, rom);
            File.WriteAllBytes(inputPath, X87TranscendentalCases.InputImage(cases));
            var psi = new ProcessStartInfo(qemu)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (string arg in new[]
            {
                "-machine", "pc", "-cpu", "qemu64", "-accel", "tcg", "-m", "16", "-display", "none", "-serial", "none",
                "-monitor", "none", "-no-reboot", "-bios", romPath,
                "-device", $"loader,file={inputPath},addr=0x{X87TranscendentalCases.InputBase:x},force-raw=on",
                "-debugcon", $"file:{outputPath}", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x01",
            })
            {
                psi.ArgumentList.Add(arg);
            }

            using var process = Process.Start(psi)!;
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            byte[] output = File.ReadAllBytes(outputPath);
            if (process.ExitCode != 1 || output.Length != cases.Count * X87TranscendentalCases.SaveImageBytes)
            {
                throw new InvalidOperationException($"{qemu} exited {process.ExitCode} with {output.Length} bytes for {cases.Count} cases: {stderr}");
            }

            return [.. cases.Select((c, i) => X87TranscendentalCases.FromSaveImage(op, c, output.AsSpan(i * X87TranscendentalCases.SaveImageBytes, X87TranscendentalCases.SaveImageBytes)))];
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
