using Emulator.Firmware.Varstore;
using Emulator.Fuzz.Tests.Support;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>VarstoreImage.Parse never throws: every damage is a listed error or warning.</summary>
public class VarstoreFuzzTests
{
    private const string Target = "varstore";

    [Theory]
    [InlineData("OVMF_VARS.fd")]
    [InlineData("OVMF_VARS_4M.fd")]
    public void MutatedStores(string fixture) =>
        FuzzRun.Run($"{Target}-{fixture}", Mutations.Of(Seeds.Fixture(fixture)), Parse, _ => false);

    [Fact]
    public void Garbage() => FuzzRun.Run($"{Target}-garbage", Mutations.Garbage(4096), Parse, _ => false);

    private static void Parse(byte[] bytes) => VarstoreImage.Parse(bytes);
}
