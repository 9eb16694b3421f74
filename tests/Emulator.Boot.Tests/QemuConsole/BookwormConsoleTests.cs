namespace Emulator.Boot.Tests.QemuConsole;

/// <summary>
/// Debian 12 bookworm's ovmf 2022.11 for the pc machine — the 2 MB and 4 MB CODE/VARS pairs and
/// the unified 2 MB OVMF.fd — boots to the Shell with QEMU 7.2's console (<see cref="QemuConsoleBoot"/>).
/// A class of its own so that xunit runs it beside <see cref="TrixieConsoleTests"/>.
/// </summary>
[Trait("Category", "Boot")]
public class BookwormConsoleTests
{
    [Theory]
    [InlineData("bookworm-2m")]
    [InlineData("bookworm-4m")]
    [InlineData("bookworm-unified")]
    public void BootsToTheShellWithQemusConsole(string fixture) => QemuConsoleBoot.Check(fixture);
}
