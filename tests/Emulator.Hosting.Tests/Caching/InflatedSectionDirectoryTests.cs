using Emulator.Hosting.Caching;

namespace Emulator.Hosting.Tests.Caching;

/// <summary>
/// The inflated-section cache on disk: a stored section comes back byte for byte; a damaged,
/// truncated or foreign file is a miss and is removed; an unusable directory only means no
/// caching; the directory stays within its bound, least recently used out first; where it lives
/// follows EMU_CACHE_DIR, then XDG_CACHE_HOME (absolute only), then ~/.cache.
/// </summary>
[Trait("Category", "Unit")]
public sealed class InflatedSectionDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("emu-inflated-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void StoredSectionComesBackByteForByte()
    {
        var cache = new InflatedSectionDirectory(Path.Combine(_root, "c"));
        byte[] compressed = Bytes(1, 300);
        byte[] inflated = Bytes(2, 5000);

        Assert.Null(cache.Find(compressed, inflated.Length));
        cache.Store(compressed, inflated);

        Assert.Equal(inflated, cache.Find(compressed, inflated.Length));
        Assert.Null(cache.Find(Bytes(3, 300), inflated.Length));
        Assert.Empty(Directory.GetFiles(cache.DirectoryPath, "*.tmp"));
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("magic")]
    public void DamagedFileIsAMissAndIsRemoved(string damage)
    {
        var cache = new InflatedSectionDirectory(Path.Combine(_root, "c"));
        byte[] compressed = Bytes(1, 300);
        byte[] inflated = Bytes(2, 5000);
        cache.Store(compressed, inflated);
        string file = Directory.GetFiles(cache.DirectoryPath).Single();
        byte[] bytes = File.ReadAllBytes(file);
        switch (damage)
        {
            case "flip": bytes[^100] ^= 1; break;
            case "truncate": bytes = bytes[..^1]; break;
            default: bytes[0] ^= 0xFF; break;
        }

        File.WriteAllBytes(file, bytes);

        Assert.Null(cache.Find(compressed, inflated.Length));
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void AskingForAnotherLengthIsAMiss()
    {
        var cache = new InflatedSectionDirectory(Path.Combine(_root, "c"));
        cache.Store(Bytes(1, 300), Bytes(2, 5000));

        Assert.Null(cache.Find(Bytes(1, 300), 4999));
    }

    [Fact]
    public void UnusableDirectoryMeansNoCaching()
    {
        string notADirectory = Path.Combine(_root, "file");
        File.WriteAllText(notADirectory, "x");
        var cache = new InflatedSectionDirectory(Path.Combine(notADirectory, "c"));

        cache.Store(Bytes(1, 300), Bytes(2, 5000));

        Assert.Null(cache.Find(Bytes(1, 300), 5000));
        Assert.Equal("x", File.ReadAllText(notADirectory));
    }

    [Fact]
    public void DirectoryStaysWithinItsBoundLeastRecentlyUsedFirstOut()
    {
        const int size = 4000;
        var cache = new InflatedSectionDirectory(Path.Combine(_root, "c"), maxBytes: 3 * (size + 100));
        for (byte i = 0; i < 3; i++)
        {
            cache.Store(Bytes(i, 64), Bytes(i, size));
            foreach (var f in Directory.GetFiles(cache.DirectoryPath))
            {
                File.SetLastWriteTimeUtc(f, File.GetLastWriteTimeUtc(f).AddMinutes(-1));   // each older than the next
            }
        }

        Assert.NotNull(cache.Find(Bytes(0, 64), size));                                      // used: now the newest
        cache.Store(Bytes(9, 64), Bytes(9, size));

        Assert.Equal(3, Directory.GetFiles(cache.DirectoryPath).Length);
        Assert.NotNull(cache.Find(Bytes(0, 64), size));
        Assert.Null(cache.Find(Bytes(1, 64), size));
        Assert.NotNull(cache.Find(Bytes(2, 64), size));
        Assert.NotNull(cache.Find(Bytes(9, 64), size));
    }

    [Theory]
    [InlineData(null, null, "/home/u/.cache/emu/inflated")]
    [InlineData(null, "/var/cache/x", "/var/cache/x/emu/inflated")]
    [InlineData(null, "relative/x", "/home/u/.cache/emu/inflated")]
    [InlineData("/srv/emu-cache", "/var/cache/x", "/srv/emu-cache/inflated")]
    [InlineData("off", null, null)]
    [InlineData("", null, null)]
    public void LocationFollowsTheEnvironment(string? emuCacheDir, string? xdgCacheHome, string? expected)
    {
        var env = new Dictionary<string, string?> { ["HOME"] = "/home/u", ["EMU_CACHE_DIR"] = emuCacheDir, ["XDG_CACHE_HOME"] = xdgCacheHome };

        var cache = InflatedSectionDirectory.ForUser(name => env.GetValueOrDefault(name));

        Assert.Equal(expected, cache?.DirectoryPath);
    }

    private static byte[] Bytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
