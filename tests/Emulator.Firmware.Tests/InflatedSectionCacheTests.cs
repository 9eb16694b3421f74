namespace Emulator.Firmware.Tests;

/// <summary>
/// <see cref="FirmwareImage.Parse(byte[], IInflatedSectionCache?)"/> with a cache: the first parse
/// stores what it inflated, the next one takes it from the cache instead of decompressing, and
/// both give the same modules; a cache that answers with the wrong length is not believed.
/// </summary>
[Trait("Category", "Fixture")]
public class InflatedSectionCacheTests
{
    [Fact]
    public void SecondParseTakesTheInflatedSectionFromTheCacheAndSeesTheSameModules()
    {
        byte[] code = FirmwareFixtures.Load(FirmwareFixtures.Code);
        var cache = new RecordingCache();

        var first = FirmwareImage.Parse(code, cache);
        Assert.Equal(0, cache.Hits);
        Assert.NotEmpty(cache.Stored);
        Assert.Contains(cache.Stored.Values, v => v.Length > 10 << 20);   // FVMAIN_COMPACT inflates to ~13 MiB

        var second = FirmwareImage.Parse(code, cache);
        Assert.Equal(cache.Stored.Count, cache.Hits);
        Assert.Equal(Describe(first), Describe(second));
        Assert.Equal(Describe(FirmwareFixtures.Parse(FirmwareFixtures.Code)), Describe(second));
    }

    [Fact]
    public void AnAnswerOfTheWrongLengthIsDecodedAfresh()
    {
        byte[] code = FirmwareFixtures.Load(FirmwareFixtures.Code);
        var cache = new RecordingCache { Lie = true };
        FirmwareImage.Parse(code, cache);

        var image = FirmwareImage.Parse(code, cache);

        Assert.True(cache.Hits > 0);
        Assert.Equal(Describe(FirmwareFixtures.Parse(FirmwareFixtures.Code)), Describe(image));
    }

    private static List<string> Describe(FirmwareImage image) =>
        image.Modules.Select(m => $"{m.FileGuid} {m.Type} {m.Name} 0x{m.Image.AddressOfEntryPoint:X} 0x{m.Image.SizeOfImage:X} {m.ImageStart:X}").ToList();

    private sealed class RecordingCache : IInflatedSectionCache
    {
        public Dictionary<string, byte[]> Stored { get; } = [];

        public int Hits { get; private set; }

        public bool Lie { get; init; }

        public byte[]? Find(ReadOnlySpan<byte> compressed, long length)
        {
            if (!Stored.TryGetValue(Convert.ToHexString(compressed), out var inflated))
            {
                return null;
            }

            Hits++;
            return Lie ? inflated[..^1] : (byte[])inflated.Clone();
        }

        public void Store(ReadOnlySpan<byte> compressed, byte[] inflated) => Stored[Convert.ToHexString(compressed)] = inflated;
    }
}
