using Emulator.Core.Cpu.Float;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// The x87 state compared (what QEMU 7.2's gdb stub shows, target/i386/gdbstub.c): the eight
/// physical registers as 80-bit values (st0..st7 are fpregs[0..7], not ST(i)), FCW and FSW with
/// TOP. Its ftag, fiseg, fioff, foseg, fooff and fop read as 0 whatever the FPU holds, so they
/// are not compared; tags and pointers reach memory through FNSTENV/FNSAVE, whose bytes are.
/// </summary>
public sealed record X87State(Float80[] Registers, ushort Control, ushort Status)
{
    public void AddDifferences(X87State other, List<string> differences)
    {
        for (int i = 0; i < 8; i++)
        {
            if (Registers[i] != other.Registers[i])
            {
                differences.Add($"st{i} (physical): {Registers[i]} vs {other.Registers[i]}");
            }
        }

        if (Control != other.Control)
        {
            differences.Add($"fctrl: {Control:x4} vs {other.Control:x4}");
        }

        if (Status != other.Status)
        {
            differences.Add($"fstat: {Status:x4} vs {other.Status:x4}");
        }
    }

    public string Format() =>
        string.Join(' ', Registers.Select((r, i) => $"st{i}={r}")) + $" fctrl={Control:x4} fstat={Status:x4}";
}

/// <summary>
/// A case's initial x87 state, loaded by the prologue: FNINIT, FLDCW <see cref="Control"/> (random
/// RC, PC and exception masks), then FLD m80 of each value (the last is ST(0)).
/// </summary>
public sealed record X87Setup(ushort Control, Float80[] Values)
{
    /// <summary>
    /// Edge-biased: zeros, infinities, QNaN/SNaN, denormals and pseudo-denormals, unnormals,
    /// pseudo-NaNs, the largest and smallest exponents, ordinary values near 1.
    /// </summary>
    public static Float80 RandomValue(Random random)
    {
        ushort sign = (ushort)(random.Next(2) << 15);
        ulong significand = random.Next(6) switch
        {
            0 => 1UL << 63,
            1 => ulong.MaxValue,
            2 => (ulong)random.NextInt64() & ~(1UL << 63),
            3 => (1UL << 63) | (1UL << random.Next(63)),
            _ => (ulong)random.NextInt64() | (1UL << 63),
        };
        int exponent = random.Next(8) switch
        {
            0 => 0,
            1 => 0x7FFF,
            2 => 1 + random.Next(4),
            3 => 0x7FFE - random.Next(4),
            _ => 0x3FFF - 70 + random.Next(140),
        };
        if (random.Next(10) == 0)
        {
            significand = exponent == 0 ? 0 : 1UL << 63;
        }

        return new Float80(significand, (ushort)(sign | exponent));
    }

    public static X87Setup Random(Random random)
    {
        // RC and PC random; exceptions masked three times in four, else a random mask set.
        int masks = random.Next(4) == 0 ? random.Next(0x40) : 0x3F;
        int pc = random.Next(4);
        ushort control = (ushort)(0x40 | masks | (pc << 8) | (random.Next(4) << 10));
        var values = Enumerable.Range(0, random.Next(9)).Select(_ => RandomValue(random)).ToArray();
        return new X87Setup(control, values);
    }
}
