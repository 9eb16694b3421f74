namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>
/// Debian's Secure Boot (SMM) builds on the Q35 board with SMM and secure flash, each to the end
/// state QEMU 7.2 reaches (tools/record-qemu-console.py): the Shell with the blank varstore; with
/// Microsoft's or the snakeoil keys enrolled, Secure Boot refuses the unsigned Shell ("Security
/// Violation") and BDS waits at the Boot Manager prompt. The 2 MB build runs with S3 disabled, as
/// Debian starts it; the IA32 builds as qemu-system-i386 runs them (qemu32, the 32-bit SMM map).
/// Console byte-identical to QEMU's up to the idle end state.
/// </summary>
[Trait("Category", "Boot")]
public class SecureBootConsoleTests
{
    [Theory]
    [InlineData("bookworm-2m-secboot")]
    [InlineData("bookworm-2m-secboot-ms")]
    [InlineData("bookworm-4m-secboot")]
    [InlineData("bookworm-4m-secboot-ms")]
    [InlineData("bookworm-4m-secboot-snakeoil")]
    [InlineData("bookworm-ia32-4m-secboot")]
    [InlineData("trixie-4m-secboot")]
    [InlineData("trixie-4m-secboot-strictnx")]
    [InlineData("trixie-4m-secboot-ms")]
    [InlineData("trixie-4m-secboot-snakeoil")]
    [InlineData("trixie-ia32-4m-secboot")]
    public void BootsToQemusEndStateWithQemusConsole(string fixture) => QemuConsoleBoot.Check(fixture);
}
