namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>
/// Debian 13 trixie's ovmf and ovmf-ia32 2025.02 for the pc machine — the 4 MB CODE/VARS pair,
/// the unified 4 MB OVMF.fd and the IA32 4 MB pair — boots to the Shell with QEMU 7.2's console
/// (<see cref="QemuConsoleBoot"/>). Their TlsDxe runs OpenSSL 3's <c>prefetcht0</c>.
/// </summary>
[Trait("Category", "Boot")]
public class TrixieConsoleTests
{
    [Theory]
    [InlineData("trixie-4m")]
    [InlineData("trixie-unified")]
    [InlineData("trixie-ia32-4m")]
    public void BootsToTheShellWithQemusConsole(string fixture) => QemuConsoleBoot.Check(fixture);
}
