using Emulator.Core.Machine;
using Emulator.Core.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// The state file on a small pc machine (a real-mode loop that fills RAM): a file read back
/// restores a machine that continues like the saved one; a file that is truncated, damaged,
/// of another version or not a state file at all is refused with one line, whatever is wrong.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MachineStateFileTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"emu-state-{Guid.NewGuid():N}.emustate");

    public void Dispose() => File.Delete(_file);

    /// <summary>F000:F000: store AX at ES:DI (ES = 0x1000) and count AX up, forever; the reset vector jumps there.</summary>
    private static byte[] Firmware()
    {
        var image = new byte[0x10000];
        TestMachine.Assemble(16, 0xF000, a =>
        {
            var loop = a.CreateLabel();
            a.mov(ax, 0x1000);
            a.mov(es, ax);
            a.xor(di, di);
            a.Label(ref loop);
            a.stosw();
            a.inc(ax);
            a.jmp(loop);
        }).CopyTo(image, 0xF000);
        TestMachine.Assemble(16, 0xFFF0, a => a.jmp(0xF000)).CopyTo(image, 0xFFF0);
        return image;
    }

    private static MachineOptions Options() => new()
    {
        RamSize = 16UL << 20,
        Flash = [new("code", Firmware(), true), new("vars", Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(), false)],
    };

    private void Save(PcMachine machine)
    {
        using var snapshot = machine.SaveSnapshot();
        using var output = File.Create(_file);
        MachineStateFile.Write(output, snapshot, [true, false], new System.Text.Json.Nodes.JsonObject { ["note"] = "session" });
    }

    [Fact]
    public void AMachineReadBackFromItsFileContinuesLikeTheSavedOne()
    {
        using var saved = new PcMachine(Options());
        saved.Run(10_000);
        Save(saved);
        saved.Run(30_000);

        var loaded = MachineStateFile.Read(_file);
        using var restored = PcMachine.FromSnapshot(loaded.Snapshot, Options());
        loaded.Snapshot.Dispose();
        restored.Run(30_000);

        Assert.Equal("session", loaded.Session!["note"]!.GetValue<string>());
        Assert.Equal(2, loaded.Meta.Flash.Count);
        Assert.Equal(saved.Cpu.SaveState().Gprs, restored.Cpu.SaveState().Gprs);
        Assert.Equal(saved.Cpu.VirtualTime, restored.Cpu.VirtualTime);
        using var a = saved.SaveSnapshot();
        using var b = restored.SaveSnapshot();
        Assert.Equal(a.Ram.Runs, b.Ram.Runs);
        Assert.True(a.Ram.Bytes(0x10000, 0x10000).SequenceEqual(b.Ram.Bytes(0x10000, 0x10000)));
    }

    [Theory]
    [InlineData("truncated", "is truncated")]
    [InlineData("version", "has format version 99; this emu reads version 2")]
    [InlineData("garbage", "is not an emu state file")]
    [InlineData("flipped", "is damaged (checksum mismatch)")]
    [InlineData("empty", "is not an emu state file")]
    public void ABadStateFileIsRefusedWithOneLine(string damage, string expected)
    {
        using (var machine = new PcMachine(Options()))
        {
            machine.Run(1000);
            Save(machine);
        }

        byte[] bytes = File.ReadAllBytes(_file);
        byte[] bad = damage switch
        {
            "truncated" => bytes[..(bytes.Length / 2)],
            "version" => [.. bytes[..8], 99, 0, 0, 0, .. bytes[12..]],
            "garbage" => Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray(),
            "flipped" => [.. bytes[..100], (byte)(bytes[100] ^ 1), .. bytes[101..]],
            _ => [],
        };
        File.WriteAllBytes(_file, bad);

        var e = Assert.Throws<StateFileException>(() => MachineStateFile.Read(_file));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TwoMachinesHaveTheirOwnBlockCompiler()
    {
        using var first = new PcMachine(Options());
        using var second = new PcMachine(Options());
        first.Cpu.CompileSynchronously = true;
        first.Cpu.CompileThreshold = 2;
        first.Run(10_000);

        Assert.True(first.Cpu.CompilerStatistics.Compiled > 0);
        Assert.Equal(0, second.Cpu.CompilerStatistics.Compiled);
    }
}
