using System.Text;

namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>The rule the boot tests judge emu's console by, on consoles made up here.</summary>
[Trait("Category", "Unit")]
public class ConsoleAgreementTests
{
    private static readonly byte[] Qemu = Encoding.ASCII.GetBytes("BdsDxe: starting\r\n\x1b[1mShell> \x1b[0m");

    [Fact]
    public void APrefixThatReachesThePromptAgrees()
    {
        int through = ConsoleAgreement.PromptEnd(Qemu);
        Assert.Equal("BdsDxe: starting\r\n\x1b[1mShell>".Length, through);
        Assert.Null(ConsoleAgreement.Check(Qemu, Qemu[..through], through));
        Assert.Null(ConsoleAgreement.Check(Qemu, Qemu, Qemu.Length));
    }

    [Fact]
    public void AChangedByteNamesItsLineInBothConsoles()
    {
        byte[] emu = Encoding.ASCII.GetBytes("BdsDxe: starting\r\n\x1b[1mShell? ");
        string? d = ConsoleAgreement.Check(Qemu, emu, ConsoleAgreement.PromptEnd(Qemu));
        Assert.Equal("emu's console differs from QEMU's at byte 27, line 2:\n  QEMU: \\e[1mShell> \\e[0m\n  emu:  \\e[1mShell? ", d);
    }

    [Fact]
    public void AConsoleThatStopsShortOfThePromptDisagrees()
    {
        byte[] emu = Encoding.ASCII.GetBytes("BdsDxe: start");
        string? d = ConsoleAgreement.Check(Qemu, emu, ConsoleAgreement.PromptEnd(Qemu));
        Assert.StartsWith("emu's console ends at byte 13, before QEMU's reaches byte 28; line 1:", d);
    }

    [Fact]
    public void WholeRecordingComparisonRefusesExtraOutput()
    {
        byte[] emu = [.. Qemu, .. "\r\n"u8];
        Assert.StartsWith("emu's console goes on past QEMU's 33 bytes", ConsoleAgreement.Check(Qemu, emu, Qemu.Length));
        Assert.NotNull(ConsoleAgreement.Check(Qemu, Qemu[..^1], Qemu.Length));
    }

    [Fact]
    public void ARecordingWithoutThePromptIsRefused()
    {
        Assert.Throws<InvalidOperationException>(() => ConsoleAgreement.PromptEnd("Press any key"u8.ToArray()));
    }
}
