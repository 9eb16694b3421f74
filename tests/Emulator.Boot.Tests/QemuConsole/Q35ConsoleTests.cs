using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>
/// Debian bookworm's 4 MB OVMF on the Q35 board boots to the Shell with QEMU 7.2's console: the
/// non-SMM build (<c>-machine q35,smm=off</c>, recorded as bookworm-4m-q35) with SMM off and with
/// SMM on (QEMU's TCG default: that build never writes the APM port, so it boots the same and
/// takes no SMI), and the SMM Secure Boot build on QEMU's default <c>-machine q35</c>
/// (bookworm-4m-secboot-q35, the unenrolled VARS): its variable services run in SMM through APM
/// SMIs into TSEG. The machine is built directly: the CLI's machine option belongs to the
/// drop-in's work.
/// </summary>
[Trait("Category", "Boot")]
public class Q35ConsoleTests
{
    /// <summary>About twice what the build needs to its prompt (~0.88 billion), so a hang fails in seconds.</summary>
    private const long Budget = 2_000_000_000;

    private const long Step = 50_000_000;

    [Theory]
    [InlineData("bookworm-4m-q35", false)]
    [InlineData("bookworm-4m-q35", true)]
    [InlineData("bookworm-4m-secboot-q35", true)]
    public void Bookworm4mReachesTheShellWithQemusConsole(string fixture, bool smm)
    {
        var recording = QemuConsoleRecording.Load(fixture);
        var images = recording.ImageArguments();
        var console = new List<byte>();
        using var m = new PcMachine(new MachineOptions
        {
            Chipset = PcChipset.Q35,
            Smm = smm,
            Flash = [new("code", File.ReadAllBytes(images[1]), true), new("vars", File.ReadAllBytes(images[3]), false)],
            SerialPorts = [new IsaSerialPort(0, console.Add)],
        });

        var reason = StopReason.InstructionLimit;
        while (console.Count < recording.Console.Length && reason == StopReason.InstructionLimit && m.Cpu.InstructionCount < Budget)
        {
            reason = m.Run(m.Cpu.InstructionCount + Step);
        }

        string? difference = ConsoleAgreement.Check(recording.Console, [.. console], recording.Console.Length);
        Assert.True(difference == null, $"{fixture} smm={smm}, stopped ({reason}, {m.StopDetail}) after {m.Cpu.InstructionCount:N0} instructions: {difference}");
        Assert.Empty(m.Resets);
        bool smmBuild = recording.Info["code"].Contains("secboot", StringComparison.Ordinal);
        Assert.Equal(smmBuild, m.Cpu.SmmEntries > 0);
    }
}
