using System.Security.Cryptography;
using Emulator.Core.Machine;

namespace Emulator.Boot.Tests.Snapshots;

/// <summary>
/// Whole-machine snapshots on the real firmware, at the machine level (no CLI): a machine saved
/// at instruction N between BDS and the Shell (timers, interrupts, PM-timer waits and flash
/// writes all live) and restored into a fresh machine — in process, and through a state file —
/// continues exactly as the machine that was never saved: the same CPU state, instruction count,
/// virtual time and RAM and flash hashes at later points. Skipping one device's state makes the
/// comparison fail, so the comparison sees the devices.
/// </summary>
[Trait("Category", "Boot")]
public sealed class MachineSnapshotTests(MachineSnapshotTests.StraightRun straight) : IClassFixture<MachineSnapshotTests.StraightRun>
{
    /// <summary>Instruction indices on the 2 MB build: the save point (BDS starts at 659,306,038, the Shell at 782,961,298) and two later checkpoints.</summary>
    private const long SaveAt = 700_000_000;
    private static readonly long[] Checkpoints = [705_000_000, 740_000_000];

    public sealed record Point(long Instructions, long VirtualTime, string Cpu, string Ram, string Flash);

    /// <summary>The one uninterrupted run the tests compare with: its snapshot at <see cref="SaveAt"/> and what it shows at each checkpoint.</summary>
    public sealed class StraightRun : IDisposable
    {
        public StraightRun()
        {
            using var machine = new PcMachine(Options());
            machine.Run(SaveAt);
            Snapshot = machine.SaveSnapshot();
            Expected = RunThrough(machine);
        }

        public MachineSnapshot Snapshot { get; }

        public List<Point> Expected { get; }

        public void Dispose() => Snapshot.Dispose();
    }
    private static MachineOptions Options() => new()
    {
        Flash =
        [
            new FlashImage("code", File.ReadAllBytes(Fixtures.Path(Fixtures.Code2M)), ReadOnly: true),
            new FlashImage("vars", File.ReadAllBytes(Fixtures.Path(Fixtures.Vars2M)), ReadOnly: false),
        ],
    };

    private static unsafe Point Observe(PcMachine m)
    {
        var cpu = m.Cpu.SaveState();
        string registers = string.Join(",", cpu.Gprs) + $"|{cpu.Rip:X}|{cpu.RFlags:X}|{string.Join(",", cpu.ControlRegisters)}|{cpu.Halted}";
        using var ram = m.SaveSnapshot();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var run in ram.Ram.Runs)
        {
            hash.AppendData(BitConverter.GetBytes(run.FirstPage));
            for (ulong page = 0; page < run.Pages; page++)
            {
                hash.AppendData(ram.Ram.Bytes((run.FirstPage + page) * 4096, 4096));
            }
        }

        string flash = Convert.ToHexString(SHA256.HashData(m.FlashChips[1].Contents));
        return new Point(m.Cpu.InstructionCount, m.Cpu.VirtualTime, registers, Convert.ToHexString(hash.GetHashAndReset()), flash);
    }

    private static List<Point> RunThrough(PcMachine m) => Checkpoints.Select(limit =>
    {
        m.Run(limit);
        return Observe(m);
    }).ToList();

    [Fact]
    public void ARestoredMachineContinuesLikeTheOneThatWasNeverSaved()
    {
        using (var restored = PcMachine.FromSnapshot(straight.Snapshot, Options()))
        {
            Assert.Equal(straight.Expected, RunThrough(restored));
        }

        string file = CliRunner.TempFile(".emustate");
        try
        {
            using (var output = File.Create(file))
            {
                MachineStateFile.Write(output, straight.Snapshot, [true, false], session: null);
            }

            var loaded = MachineStateFile.Read(file);
            using var fromFile = PcMachine.FromSnapshot(loaded.Snapshot, Options());
            loaded.Snapshot.Dispose();
            Assert.Equal(straight.Expected, RunThrough(fromFile));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The mutation: the PIIX4 PM function (whose I/O base places the ACPI PM timer every Stall
    /// reads) keeps its power-on state instead of the saved one, as if its state were dropped.
    /// </summary>
    [Fact]
    public void ARestoreThatSkipsOneDeviceDiverges()
    {
        using var fresh = new PcMachine(Options());
        var powerOn = fresh.SaveDeviceStates().Single(d => d.Name == "piix4-pm").State;
        var mutated = straight.Snapshot with
        {
            Devices = straight.Snapshot.Devices.Select(d => d.Name == "piix4-pm" ? d with { State = powerOn } : d).ToList(),
        };

        using var machine = PcMachine.FromSnapshot(mutated, Options());
        Assert.NotEqual(straight.Expected, RunThrough(machine));
    }

    /// <summary>A device with a timer armed that is left unrestored is caught at restore: its deadline was not re-armed.</summary>
    [Fact]
    public void ARestoreThatSkipsADeviceWithATimerIsRefused()
    {
        using var fresh = new PcMachine(Options());
        var powerOn = fresh.SaveDeviceStates().Single(d => d.Name == "local-apic").State;
        var mutated = straight.Snapshot with
        {
            Devices = straight.Snapshot.Devices.Select(d => d.Name == "local-apic" ? d with { State = powerOn } : d).ToList(),
        };

        var e = Assert.Throws<InvalidOperationException>(() => PcMachine.FromSnapshot(mutated, Options()).Dispose());
        Assert.Contains("Xapic.OnTimer", e.Message, StringComparison.Ordinal);
    }
}
