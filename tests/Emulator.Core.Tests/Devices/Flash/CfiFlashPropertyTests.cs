using System.Diagnostics;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Devices.Flash;

/// <summary>
/// Random command streams against the device (through the bus, so read-array mode takes the
/// direct path) and against <see cref="ReferenceFlash"/>: every read and the mode must agree
/// after every operation, the whole array at checkpoints, and a read-only chip never changes.
/// 4 seeds x 2 chips x 130,000 operations by default; EMU_SOAK=1 runs 50 times as many.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CfiFlashPropertyTests
{
    private const int OperationsPerRun = 130_000;
    private const int SoakFactor = 50;
    private const int CheckpointInterval = 1024;
    private const int HistoryLength = 24;
    private const ulong ReadOnlySize = 0x2000;
    private const ulong WritableSize = 0x3000; // three sectors: not a power of two (CFI 0x27 quirk)

    // Every command the chip knows, plus the second bytes of its sequences, weighted by repetition.
    private static readonly byte[] Commands =
    [
        0x00, 0xF0, 0xFF, 0xFF, 0x10, 0x10, 0x40, 0x20, 0x50, 0x60, 0x70, 0x90, 0x98,
        0xE8, 0xE8, 0xE8, 0xD0, 0xD0, 0xD0, 0x01, 0x28,
    ];

    private static readonly int[] Widths = [1, 2, 4];

    public static TheoryData<int, bool> Runs()
    {
        var runs = new TheoryData<int, bool>();
        foreach (int seed in new[] { 1, 7, 42, 2026 })
        {
            runs.Add(seed, false);
            runs.Add(seed, true);
        }

        return runs;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void DeviceMatchesReferenceModel(int seed, bool readOnly)
    {
        int operations = Environment.GetEnvironmentVariable("EMU_SOAK") == "1" ? OperationsPerRun * SoakFactor : OperationsPerRun;
        var random = new Random(seed);
        ulong size = readOnly ? ReadOnlySize : WritableSize;
        var initial = new byte[size];
        random.NextBytes(initial);

        // Unit 0 is the chip under test (writable or read-only); the machine needs nothing else.
        using var machine = new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            Flash = [new("chip", (byte[])initial.Clone(), readOnly)],
        });
        var driver = new FlashDriver(machine, 0);
        var model = new ReferenceFlash((byte[])initial.Clone(), readOnly);
        var history = new Operation[HistoryLength];
        var pending = new Queue<Operation>();
        ulong hot = 0;

        for (int n = 0; n < operations; n++)
        {
            if (random.Next(64) == 0)
            {
                hot = (ulong)random.NextInt64((long)size);
            }

            if (pending.Count == 0)
            {
                Refill(pending, random, size, hot);
            }

            var op = pending.Dequeue();
            history[n % HistoryLength] = op;
            switch (op.Kind)
            {
                case OperationKind.Reset:
                    machine.Reset();
                    model.Reset();
                    break;
                case OperationKind.Read:
                    ulong expected = model.Read((int)op.Offset, op.Width);
                    ulong actual = driver.Read(op.Offset, op.Width);
                    if (actual != expected)
                    {
                        Fail(seed, n, history, $"read {op.Width} at 0x{op.Offset:X}: device 0x{actual:X}, model 0x{expected:X}");
                    }

                    break;
                default:
                    driver.Write(op.Offset, op.Width, op.Value);
                    model.Write((int)op.Offset, op.Width, op.Value);
                    break;
            }

            if (driver.Chip.ArrayMode != model.InArrayMode)
            {
                Fail(seed, n, history, $"read-array mode: device {driver.Chip.ArrayMode}, model {model.InArrayMode}");
            }

            if (n % CheckpointInterval == 0 || n == operations - 1)
            {
                CheckArray(driver, model, initial, seed, n, history);
            }
        }

        // The stream must have reached the transitions that change (or refuse to change) data.
        Assert.True(model.Programs > 0 && model.Erases > 0 && model.BufferCommits > 0 && model.BufferDrops > 0,
            $"programs {model.Programs}, erases {model.Erases}, buffer commits {model.BufferCommits}, drops {model.BufferDrops}");
    }

    /// <summary>
    /// Half the time a single random operation; otherwise a whole sequence as firmware issues it
    /// (program, erase, buffered write, query, probe, lock), each step sometimes replaced by a
    /// random operation and followed by reads, so the stream reaches deep states and their
    /// corruptions alike.
    /// </summary>
    private static void Refill(Queue<Operation> queue, Random random, ulong size, ulong hot)
    {
        if (random.Next(2) == 0)
        {
            queue.Enqueue(RandomOperation(random, size, hot));
            return;
        }

        ulong at = Clamp(hot + (ulong)random.Next(-64, 64), size, 4);
        var steps = new List<Operation>();
        switch (random.Next(6))
        {
            case 0:
                steps.Add(Command(at, random.Next(2) == 0 ? (byte)0x10 : (byte)0x40));
                int width = Widths[random.Next(Widths.Length)];
                steps.Add(new Operation(OperationKind.Write, at, width, (ulong)random.NextInt64() & PhysicalMask(width)));
                break;
            case 1:
                steps.Add(Command(at, 0x20));
                steps.Add(Command(at, random.Next(4) switch { 0 => 0xFF, 1 => (byte)random.Next(256), _ => 0xD0 }));
                break;
            case 2:
                AddBufferedWrite(steps, random, size, at);
                break;
            case 3:
                steps.Add(Command(at, 0x98));
                steps.Add(new Operation(OperationKind.Read, at & ~0xFFUL, 1, 0));
                steps.Add(Command(at, random.Next(3) == 0 ? (byte)random.Next(256) : (byte)0xFF));
                break;
            case 4:
                steps.Add(Command(at, 0x50));
                steps.Add(new Operation(OperationKind.Read, at, 1, 0));
                steps.Add(Command(at, 0x70));
                steps.Add(new Operation(OperationKind.Read, at, 1, 0));
                steps.Add(Command(at, 0xFF));
                break;
            default:
                steps.Add(Command(at, 0x60));
                steps.Add(Command(at, random.Next(3) switch { 0 => 0x01, 1 => (byte)random.Next(256), _ => 0xD0 }));
                break;
        }

        foreach (var step in steps)
        {
            queue.Enqueue(random.Next(32) == 0 ? RandomOperation(random, size, hot) : step);
            if (random.Next(2) == 0)
            {
                queue.Enqueue(RandomRead(random, size, at));
            }
        }
    }

    private static void AddBufferedWrite(List<Operation> steps, Random random, ulong size, ulong at)
    {
        if (random.Next(2) == 0)
        {
            steps.Add(Command(at, 0x50)); // a sticky program error would refuse the commit
        }

        int count = random.Next(8) == 0 ? random.Next(256) : random.Next(8);
        ulong window = at & ~0xFFUL;
        steps.Add(Command(at, 0xE8));
        steps.Add(new Operation(OperationKind.Write, at, 1, (uint)count | ((uint)random.Next(4) << 8)));
        for (int i = 0; i <= count; i++)
        {
            int width = Widths[random.Next(Widths.Length)];
            ulong offset = random.Next(16) == 0
                ? (ulong)random.NextInt64((long)size)
                : window + (ulong)random.Next(256 - width + 1);
            steps.Add(new Operation(OperationKind.Write, Clamp(offset, size, width), width, (ulong)random.NextInt64() & PhysicalMask(width)));
        }

        steps.Add(Command(at, random.Next(8) == 0 ? (byte)random.Next(256) : (byte)0xD0));
    }

    private static Operation RandomOperation(Random random, ulong size, ulong hot)
    {
        int roll = random.Next(1000);
        if (roll == 0)
        {
            return new Operation(OperationKind.Reset, 0, 0, 0);
        }

        if (roll < 500)
        {
            return RandomRead(random, size, hot);
        }

        // Writes: a command byte (the upper bytes of a wide write are noise) or data.
        int width = Widths[random.Next(Widths.Length)];
        ulong offset = Near(random, size, hot, width);
        ulong noise = (ulong)random.NextInt64() & PhysicalMask(width) & ~0xFFUL;
        ulong value = roll < 800
            ? Commands[random.Next(Commands.Length)] | noise
            : (ulong)random.NextInt64() & PhysicalMask(width);
        return new Operation(OperationKind.Write, offset, width, value);
    }

    private static Operation RandomRead(Random random, ulong size, ulong hot)
    {
        int width = Widths[random.Next(Widths.Length)];
        return new Operation(OperationKind.Read, Near(random, size, hot, width), width, 0);
    }

    private static ulong Near(Random random, ulong size, ulong hot, int width) => Clamp(
        random.Next(2) == 0 ? (ulong)random.NextInt64((long)size) : hot + (ulong)random.Next(-300, 300),
        size,
        width);

    // A negative step wraps to a huge offset and is clamped to the last access that fits.
    private static ulong Clamp(ulong offset, ulong size, int width) => Math.Min(offset, size - (ulong)width);

    private static Operation Command(ulong offset, byte command) => new(OperationKind.Write, offset, 1, command);

    private static ulong PhysicalMask(int width) => width == 8 ? ulong.MaxValue : (1UL << (8 * width)) - 1;

    private static void CheckArray(FlashDriver driver, ReferenceFlash model, byte[] initial, int seed, int n, Operation[] history)
    {
        var contents = driver.Chip.Contents;
        if (!contents.SequenceEqual(model.Array))
        {
            int at = contents.CommonPrefixLength(model.Array);
            Fail(seed, n, history, $"array differs at 0x{at:X}: device 0x{contents[at]:X2}, model 0x{model.Array[at]:X2}");
        }

        if (driver.Chip.ReadOnly && !contents.SequenceEqual(initial))
        {
            Fail(seed, n, history, "the read-only chip changed");
        }
    }

    private static void Fail(int seed, int n, Operation[] history, string what)
    {
        var lines = new List<string> { $"seed {seed}, operation {n}: {what}; last operations:" };
        for (int i = Math.Max(0, n - HistoryLength + 1); i <= n; i++)
        {
            var op = history[i % HistoryLength];
            lines.Add($"  #{i} {op.Kind} w{op.Width} @0x{op.Offset:X} = 0x{op.Value:X}");
        }

        Assert.Fail(string.Join(Environment.NewLine, lines));
    }

    private enum OperationKind
    {
        Read,
        Write,
        Reset,
    }

    private readonly record struct Operation(OperationKind Kind, ulong Offset, int Width, ulong Value);
}
