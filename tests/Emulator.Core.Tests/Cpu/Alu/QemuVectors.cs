using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using StringBuilder = System.Text.StringBuilder;
using Emulator.Core.Cpu;
using Emulator.Core.Tests.Support;
using Emulator.Tests.Shared;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Cpu.Alu;

/// <summary>
/// Instruction vectors recorded on QEMU 7.2 (TCG, qemu64), the reference machine: random samples of
/// every 64-bit ALU code, run with random registers, memory and flags (undefined flags included).
/// <see cref="OurResultsMatchQemu"/> replays them; <see cref="Regenerate"/> records them again when
/// ALU_QEMU_REGEN=1 and qemu-system-x86_64 is installed (Debian bookworm's package is 7.2).
/// A line is "code-hex seed [rN=value ...] f=rflags [m=offset:bytes ...]": the inputs follow from
/// the seed (<see cref="Inputs"/>), the outputs list what differs from them.
/// </summary>
[Trait("Category", "Unit")]
public sealed class QemuVectors
{
    private const int SamplesPerCode = 8;
    private const ulong BlobAt = 0x100_0000;
    private const int DumpBytes = 17 * 8 + 0x200;

    /// <summary>
    /// Instructions put before a bit test so that the flags it starts from are held the ways QEMU
    /// holds them (lazy add/sub/logic/shift/mul results of several widths, materialised after a
    /// rotate, cleared by the XOR idiom): BT's undefined flags depend on it.
    /// </summary>
    private static readonly Action<Assembler>[] FlagPrefixes =
    [
        a => a.add(r10, r11),
        a => a.sub(r10w, r11w),
        a => a.and(r10b, r11b),
        a => a.shl(r10d, 3),
        a => a.inc(r10d),
        a => a.imul(r10, r11),
        a => a.rol(r10, 3),
        a => a.xor(r10d, r10d),
        a => a.bsf(r10, r11),
        a => a.adc(r10d, r11d),
    ];

    private static readonly AssemblerRegister64[] Regs64 =
        [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];

    private static string DataFile([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Data", "qemu72-alu.txt");

    /// <summary>The registers, flags and memory a case starts from, all drawn from its seed.</summary>
    internal static (SampleInputs Inputs, ulong Flags) Inputs(byte[] code, int seed)
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code));
        Instruction last = default;
        while (decoder.IP < (ulong)code.Length)
        {
            decoder.Decode(out last);
        }

        var rng = new Random(seed);
        var inputs = SampleEncoder.RandomInputs(rng, last);
        ulong flags = RFlags.Reserved1 | ((ulong)rng.NextInt64() & (RFlags.Arith | RFlags.DF));
        return (inputs, flags);
    }

    private static List<(byte[] Code, int Seed)> GenerateCases()
    {
        var rng = new Random(20240607);
        var cases = new List<(byte[], int)>();
        using var box = new AluSandbox(64);
        foreach (var code in AluFlagsContractTests.RegisteredCodes())
        {
            if (!code.ToOpCode().Mode64)
            {
                continue;
            }

            bool bitTest = code.Mnemonic() is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc;
            int samples = bitTest ? SamplesPerCode + FlagPrefixes.Length : SamplesPerCode;
            for (int s = 0; s < samples; s++)
            {
                if (!SampleEncoder.TryEncode(code, 64, rng, out _, out var bytes, out _))
                {
                    break;
                }

                if (s >= SamplesPerCode)
                {
                    bytes = [.. TestMachine.Assemble(64, 0, FlagPrefixes[s - SamplesPerCode]), .. bytes];
                }

                // The vectors must not fault (QEMU would need an IDT): draw inputs again for
                // divides that overflow. #DE itself is covered by MulDivTests.
                for (int tries = 0; tries < 20; tries++)
                {
                    int seed = rng.Next();
                    var (inputs, flags) = Inputs(bytes, seed);
                    if (box.Run([.. bytes, 0xF4], cpu => inputs.Apply(cpu), flags))
                    {
                        cases.Add((bytes, seed));
                        break;
                    }
                }
            }
        }

        return cases;
    }

    [Fact]
    public void OurResultsMatchQemu()
    {
        var lines = File.ReadAllLines(DataFile());
        Assert.True(lines.Length > 1000, "vector file missing or short");
        using var box = new AluSandbox(64);
        var failures = new List<string>();
        foreach (string line in lines)
        {
            var parts = line.Split(' ');
            byte[] code = Convert.FromHexString(parts[0]);
            int seed = int.Parse(parts[1], CultureInfo.InvariantCulture);
            var (inputs, flagsIn) = Inputs(code, seed);
            var expectRegs = (ulong[])inputs.Registers.Clone();
            var expectMem = (byte[])inputs.Memory.Clone();
            ulong expectFlags = 0;
            foreach (string field in parts.Skip(2))
            {
                if (field.StartsWith("f=", StringComparison.Ordinal))
                {
                    expectFlags = ulong.Parse(field[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                }
                else if (field.StartsWith("m=", StringComparison.Ordinal))
                {
                    var (offset, bytes) = (field[2..field.IndexOf(':')], field[(field.IndexOf(':') + 1)..]);
                    Convert.FromHexString(bytes).CopyTo(expectMem, int.Parse(offset, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
                else
                {
                    int eq = field.IndexOf('=');
                    expectRegs[int.Parse(field[1..eq], CultureInfo.InvariantCulture)] =
                        ulong.Parse(field[(eq + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                }
            }

            var insnText = Disassemble(code);
            if (!box.Run([.. code, 0xF4], cpu => inputs.Apply(cpu), flagsIn))
            {
                failures.Add($"{insnText} [{line}]: faulted with vector {box.Fault}");
                continue;
            }

            var diffs = new List<string>();
            for (int r = 0; r < 16; r++)
            {
                if (r != Gpr.Rsp && box.Reg(r) != expectRegs[r])
                {
                    diffs.Add($"r{r} {box.Reg(r):X} expected {expectRegs[r]:X} (was {inputs.Registers[r]:X})");
                }
            }

            if (box.Flags != expectFlags)
            {
                diffs.Add($"flags {box.Flags:X} expected {expectFlags:X}");
            }

            for (int i = 0; i < expectMem.Length; i++)
            {
                ulong got = box.Machine.Bus.Read(SampleEncoder.MemoryBase - 0x100 + (ulong)i, 1);
                if (got != expectMem[i])
                {
                    diffs.Add($"mem[{i - 0x100}] {got:X2} expected {expectMem[i]:X2}");
                    break;
                }
            }

            if (diffs.Count > 0)
            {
                failures.Add($"{insnText} [{parts[0]} {seed}, flags in {flagsIn:X}]: {string.Join("; ", diffs)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {lines.Length} differ:\n" + string.Join("\n", failures.Take(40)));
    }

    [Fact]
    public void Regenerate()
    {
        if (Environment.GetEnvironmentVariable("ALU_QEMU_REGEN") != "1")
        {
            return;
        }

        var cases = GenerateCases();
        string dir = Directory.CreateTempSubdirectory("alu-qemu").FullName;
        File.WriteAllBytes(Path.Combine(dir, "bios.bin"), BuildBios());
        File.WriteAllBytes(Path.Combine(dir, "blob.bin"), BuildBlob(cases));
        string outFile = Path.Combine(dir, "out.bin");
        var psi = new ProcessStartInfo("qemu-system-x86_64")
        {
            ArgumentList =
            {
                "-machine", "pc,accel=tcg", "-cpu", "qemu64", "-m", "64", "-nodefaults", "-display", "none",
                "-no-reboot", "-bios", Path.Combine(dir, "bios.bin"),
                "-device", $"loader,file={Path.Combine(dir, "blob.bin")},addr=0x{BlobAt:X},force-raw=on",
                "-debugcon", $"file:{outFile}", "-global", "isa-debugcon.iobase=0xe9",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            },
            RedirectStandardError = true,
        };
        using (var qemu = Process.Start(psi)!)
        {
            if (!qemu.WaitForExit(120_000))
            {
                qemu.Kill();
                throw new TimeoutException("QEMU did not finish");
            }

            Assert.True(qemu.ExitCode == 1, $"QEMU exit {qemu.ExitCode}: {qemu.StandardError.ReadToEnd()}");
        }

        byte[] dump = File.ReadAllBytes(outFile);
        Assert.Equal(cases.Count * DumpBytes, dump.Length);
        var sb = new StringBuilder();
        for (int c = 0; c < cases.Count; c++)
        {
            var (code, seed) = cases[c];
            var (inputs, _) = Inputs(code, seed);
            var span = dump.AsSpan(c * DumpBytes, DumpBytes);
            sb.Append(Convert.ToHexString(code)).Append(' ').Append(seed.ToString(CultureInfo.InvariantCulture));

            // Pushed after the case: RFLAGS, then RAX..R15, so R15 is at the lowest address.
            for (int r = 0; r < 16; r++)
            {
                ulong value = BitConverter.ToUInt64(span[((15 - r) * 8)..]);
                if (r != Gpr.Rsp && value != inputs.Registers[r])
                {
                    sb.Append(CultureInfo.InvariantCulture, $" r{r}={value:X}");
                }
            }

            sb.Append(CultureInfo.InvariantCulture, $" f={BitConverter.ToUInt64(span[(16 * 8)..]):X}");
            var mem = span[(17 * 8)..];
            for (int i = 0; i < mem.Length; i++)
            {
                if (mem[i] != inputs.Memory[i])
                {
                    int end = i;
                    while (end < mem.Length && mem[end] != inputs.Memory[end])
                    {
                        end++;
                    }

                    sb.Append(CultureInfo.InvariantCulture, $" m={i:X}:{Convert.ToHexString(mem[i..end])}");
                    i = end;
                }
            }

            sb.Append('\n');
        }

        Directory.CreateDirectory(Path.GetDirectoryName(DataFile())!);
        File.WriteAllText(DataFile(), sb.ToString());
    }

    private static string Disassemble(byte[] code)
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code));
        var parts = new List<string>();
        while (decoder.IP < (ulong)code.Length)
        {
            parts.Add(decoder.Decode().ToString());
        }

        return string.Join("; ", parts);
    }

    /// <summary>
    /// A 64 KiB BIOS: at the reset vector, load a flat GDT, enter protected mode, identity-map
    /// 4 GiB with 2 MiB pages, enter long mode and jump to the case blob the loader put at 16 MiB.
    /// </summary>
    private static byte[] BuildBios()
    {
        const uint rom = 0xFFFF_0000;
        var image = new byte[0x10000];
        Array.Fill(image, (byte)0xF4);

        // GDT at offset 0: null, 32-bit code 0x08, data 0x10, 64-bit code 0x18; GDTR at 0x20.
        BitConverter.GetBytes(0UL).CopyTo(image, 0);
        BitConverter.GetBytes(0x00CF9B000000FFFFUL).CopyTo(image, 8);
        BitConverter.GetBytes(0x00CF93000000FFFFUL).CopyTo(image, 16);
        BitConverter.GetBytes(0x00AF9B000000FFFFUL).CopyTo(image, 24);
        BitConverter.GetBytes((ushort)31).CopyTo(image, 0x20);
        BitConverter.GetBytes(rom).CopyTo(image, 0x22);

        // 16-bit, at F000:0100: cli; o32 lgdt cs:[0x20]; CR0.PE = 1; jmp far 0x08:rom+0x200.
        byte[] real = [0xFA, 0x66, 0x2E, 0x0F, 0x01, 0x16, 0x20, 0x00, 0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0, 0x66, 0xEA, 0x00, 0x02, 0xFF, 0xFF, 0x08, 0x00];
        real.CopyTo(image, 0x100);

        byte[] pm = TestMachine.Assemble(32, rom + 0x200, a =>
        {
            a.mov(ax, 0x10);
            a.mov(ds, ax);
            a.mov(es, ax);
            a.mov(ss, ax);
            a.mov(esp, 0x90000);
            a.cld();
            LongModeEntry.IdentityMapAndEnablePaging(a, 0x10000);
        });
        pm.CopyTo(image, 0x200);

        // jmp far 0x18:rom+0x400 (into 64-bit mode).
        byte[] far = [0xEA, 0x00, 0x04, 0xFF, 0xFF, 0x18, 0x00];
        far.CopyTo(image, 0x200 + pm.Length);
        byte[] lm = TestMachine.Assemble(64, rom + 0x400, a =>
        {
            a.mov(rsp, 0x90000);
            a.mov(rax, BlobAt);
            a.jmp(rax);
        });
        lm.CopyTo(image, 0x400);

        // Reset vector F000:FFF0: jmp near 0x0100.
        byte[] reset = [0xE9, 0x0D, 0x01];
        reset.CopyTo(image, 0xFFF0);
        return image;
    }

    /// <summary>Per case: load memory, flags and registers, run the case, push RFLAGS and the 16 registers, and send them and the buffer to port 0xE9.</summary>
    private static byte[] BuildBlob(List<(byte[] Code, int Seed)> cases) => TestMachine.Assemble(64, BlobAt, a =>
    {
        var labels = new List<Label>();
        foreach (var (code, seed) in cases)
        {
            var (inputs, flags) = Inputs(code, seed);
            var memory = a.CreateLabel();
            labels.Add(memory);
            a.mov(rsp, 0x90000);
            a.cld();
            a.lea(rsi, __[memory]);
            a.mov(rdi, SampleEncoder.MemoryBase - 0x100);
            a.mov(ecx, 0x200);
            a.rep.movsb();
            a.mov(rax, flags);
            a.push(rax);
            a.popfq();
            for (int r = 0; r < 16; r++)
            {
                if (r != Gpr.Rsp)
                {
                    a.mov(Regs64[r], inputs.Registers[r]);
                }
            }

            a.db(code);
            a.pushfq();
            for (int r = 0; r < 16; r++)
            {
                a.push(Regs64[r]);
            }

            a.cld();
            a.mov(rsi, rsp);
            a.mov(ecx, 17 * 8);
            a.mov(edx, 0xE9);
            a.rep.outsb();
            a.mov(rsi, SampleEncoder.MemoryBase - 0x100);
            a.mov(ecx, 0x200);
            a.rep.outsb();
        }

        a.mov(eax, 0);
        a.mov(edx, 0xF4);
        a.@out(dx, eax);
        a.hlt();
        for (int c = 0; c < cases.Count; c++)
        {
            var label = labels[c];
            a.Label(ref label);
            a.db(Inputs(cases[c].Code, cases[c].Seed).Inputs.Memory);
        }
    });
}
