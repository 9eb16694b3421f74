using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>
/// The pinned firmware fixtures (firmware-fixtures/cache) as seed inputs for the mutators. Every
/// array handed out here remembers where it came from (<see cref="OriginOf"/>), so a failing
/// input mutated from it can be saved as a small patch against the fixture instead of a copy of
/// a firmware binary (which is never committed).
/// </summary>
public static class Seeds
{
    private static readonly ConcurrentDictionary<string, byte[]> s_fixtures = new();
    private static readonly ConditionalWeakTable<byte[], SeedOrigin> s_origins = new();

    /// <summary>A fresh copy of the fixture (callers may modify it).</summary>
    public static byte[] Fixture(string name) => Register(SeedOrigin.OfFixture(name).Materialize(), SeedOrigin.OfFixture(name));

    /// <summary><paramref name="length"/> bytes of a seed from <paramref name="offset"/>, e.g. one volume of an image.</summary>
    public static byte[] Slice(byte[] parent, int offset, int length)
    {
        byte[] bytes = parent.AsSpan(offset, length).ToArray();
        return OriginOf(parent) is { } origin ? Register(bytes, origin.Sliced(offset, length)) : bytes;
    }

    /// <summary>
    /// The decoded content of the EDK II LZMA payload at <paramref name="offset"/> of a fixture (or
    /// of a slice of one): the volumes FVMAIN_COMPACT carries compressed (PEIFV, DXEFV).
    /// </summary>
    public static byte[] Inflated(byte[] parent, int offset, int length)
    {
        SeedOrigin origin = OriginOf(parent)?.Inflated(offset, length)
            ?? throw new ArgumentException("only a fixture or a plain slice of one can be inflated", nameof(parent));
        return Register(origin.Materialize(), origin);
    }

    /// <summary>Where <paramref name="seed"/> came from, or null for bytes not made here (generated ones).</summary>
    public static SeedOrigin? OriginOf(byte[] seed) => s_origins.TryGetValue(seed, out SeedOrigin? origin) ? origin : null;

    /// <summary>The fixture's bytes, read once per run; callers must not modify them.</summary>
    internal static byte[] FixtureBytes(string name) => s_fixtures.GetOrAdd(name, ReadFixture);

    private static byte[] Register(byte[] bytes, SeedOrigin origin)
    {
        s_origins.AddOrUpdate(bytes, origin);
        return bytes;
    }

    private static byte[] ReadFixture(string name)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "firmware-fixtures", "cache", name);
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }

        Assert.Fail($"firmware fixture {name} missing: run firmware-fixtures/fetch.sh");
        return [];
    }
}
