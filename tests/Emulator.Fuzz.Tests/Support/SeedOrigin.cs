using Emulator.Firmware;

namespace Emulator.Fuzz.Tests.Support;

/// <summary>A byte range of a pinned fixture: optionally an LZMA payload of it decoded, then optionally a slice.</summary>
/// <param name="Fixture">File name in firmware-fixtures/cache.</param>
/// <param name="Inflate">Offset and length in the fixture of an EDK II LZMA payload (properties, size, stream) to decode.</param>
/// <param name="Slice">Offset and length of the seed in the (decoded) fixture.</param>
public sealed record SeedOrigin(string Fixture, Range32? Inflate = null, Range32? Slice = null)
{
    public static SeedOrigin OfFixture(string name) => new(name);

    public SeedOrigin Sliced(int offset, int length) =>
        this with { Slice = new Range32((Slice?.Offset ?? 0) + offset, length) };

    /// <summary>Null when the payload would sit in already decoded bytes (not needed by any target).</summary>
    public SeedOrigin? Inflated(int offset, int length) =>
        Inflate is not null ? null : new SeedOrigin(Fixture, new Range32((Slice?.Offset ?? 0) + offset, length));

    /// <summary>The seed's bytes, recomputed from the fixture.</summary>
    public byte[] Materialize()
    {
        byte[] bytes = Seeds.FixtureBytes(Fixture);
        if (Inflate is { } payload)
        {
            bytes = LzmaSectionDecoder.Decode(bytes.AsMemory(payload.Offset, payload.Length), new ParseContext());
        }

        return Slice is { } slice ? bytes.AsSpan(slice.Offset, slice.Length).ToArray() : (byte[])bytes.Clone();
    }
}

public readonly record struct Range32(int Offset, int Length)
{
    public override string ToString() => $"0x{Offset:X} 0x{Length:X}";
}
