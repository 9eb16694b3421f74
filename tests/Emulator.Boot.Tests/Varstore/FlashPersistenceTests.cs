using Emulator.Core.Machine;
using Emulator.Hosting.Varstore;

namespace Emulator.Boot.Tests.Varstore;

/// <summary>
/// The persistence hot path: a byte program with persistence attached allocates nothing on the
/// CPU thread, however far the writer falls behind (the ring wraps many times here and the guest
/// waits for space), and everything still reaches the file in order.
/// </summary>
[Trait("Category", "Slow")]
public class FlashPersistenceTests
{
    private const ulong VarsBase = 0xFFFC0000; // a 128 KiB vars chip directly below a 128 KiB code chip
    private const int ChipBytes = 0x20000;

    [Fact]
    public void ByteProgramsAllocateNothingAndAllReachTheFileInOrder()
    {
        string path = CliRunner.TempFile("-vars.fd");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0xFF, ChipBytes).ToArray());
        try
        {
            byte[] final;
            int passes = (3 * FlashPersistence.RingBytes / 16 / ChipBytes) + 1; // ring entries are 16 bytes: over three rings' worth
            using (var file = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot: false))
            {
                using var machine = new PcMachine(new MachineOptions
                {
                    Flash = [new FlashImage("code", new byte[ChipBytes], true), new FlashImage("vars", file.Bytes, false)],
                });
                Assert.Equal(VarsBase, machine.FlashPlacements[1].Base);
                var persistence = new FlashPersistence(file);
                machine.FlashChips[1].AddListener(persistence);
                var bus = machine.Bus;

                Program(bus, 0, 1); // warm up: first calls JIT-compile
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int pass = 0; pass < passes; pass++)
                {
                    Program(bus, pass, ChipBytes);
                }

                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                persistence.Dispose();

                // Nothing per operation. The first time the ring fills (a loaded host starves the
                // writer) the CPU thread blocks, and the runtime allocates its wait machinery once
                // (7,680 bytes seen under load); one byte per 64 operations still catches any
                // per-operation allocation, which would cost at least 24 bytes each.
                long operations = (long)passes * ChipBytes;
                Assert.True(allocated < operations / 64, $"{allocated} bytes allocated over {operations} byte programs");
                Assert.Null(persistence.Failure);
                Assert.Equal(1 + ((long)passes * ChipBytes), persistence.Operations);
                final = machine.FlashChips[1].Contents.ToArray();
            }

            Assert.Equal(final, File.ReadAllBytes(path));
            Assert.Equal((byte)(((ChipBytes - 1) * 7) + passes - 1), final[^1]);
            Assert.False(File.Exists(VarstoreJournal.PathFor(path)));
        }
        finally
        {
            VarstoreChecks.Delete(path);
        }
    }

    [Fact]
    public void ScatteredProgramsPassACheckpointAndStillReachTheFile()
    {
        string path = CliRunner.TempFile("-vars.fd");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0xFF, ChipBytes).ToArray());
        try
        {
            byte[] final;
            using (var file = VarstoreFile.Open(Emulator.Hosting.Inputs.InputRole.Varstore("vars"), path, snapshot: false))
            {
                using var machine = new PcMachine(new MachineOptions
                {
                    Flash = [new FlashImage("code", new byte[ChipBytes], true), new FlashImage("vars", file.Bytes, false)],
                });
                var persistence = new FlashPersistence(file);
                machine.FlashChips[1].AddListener(persistence);

                // Every other byte: no two programs coalesce, so each is a 29-byte journal record.
                long records = FlashPersistence.CheckpointBytes / (VarstoreJournal.RecordHeaderSize + 1);
                for (long n = 0; n <= records + (ChipBytes / 2); n++)
                {
                    ulong at = VarsBase + (ulong)(n * 2 % ChipBytes);
                    machine.Bus.Write(at, 1, 0x10);
                    machine.Bus.Write(at, 1, (ulong)(n / (ChipBytes / 2)) + 1);
                }

                persistence.Dispose();
                Assert.Null(persistence.Failure);
                Assert.True(persistence.Checkpoints >= 1, "the journal was checkpointed during the run");
                Assert.True(file.Epoch >= 2);
                final = machine.FlashChips[1].Contents.ToArray();
            }

            Assert.Equal(final, File.ReadAllBytes(path));
            Assert.NotEqual(0xFF, final[0]);
            Assert.Equal(0xFF, final[1]);
        }
        finally
        {
            VarstoreChecks.Delete(path);
        }
    }

    /// <summary>OVMF's byte program (0x10, then the data at the same address) over <paramref name="count"/> bytes, then read array.</summary>
    private static void Program(Core.Memory.PhysicalBus bus, int pass, int count)
    {
        for (int i = 0; i < count; i++)
        {
            bus.Write(VarsBase + (ulong)i, 1, 0x10);
            bus.Write(VarsBase + (ulong)i, 1, (ulong)(byte)((i * 7) + pass));
        }

        bus.Write(VarsBase, 1, 0xFF);
    }
}
