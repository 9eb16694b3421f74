using System.Buffers.Binary;
using System.Diagnostics;

namespace Emulator.Firmware.Tests;

/// <summary>Malformed input must give FirmwareFormatException or a partial model, never another exception.</summary>
[Trait("Category", "Fixture")]
public class RobustnessTests
{
    private const int Seed = 20221106;

    [Fact]
    public void TruncatedImagesNeverCrash()
    {
        byte[] code = FirmwareFixtures.Load(FirmwareFixtures.Code);
        var random = new Random(Seed);

        // Cutting inside FVMAIN_COMPACT drops it (its FvLength no longer fits) without inflating LZMA.
        for (int i = 0; i < 200; i++)
        {
            int length = random.Next(0, 0x1AC000);
            ParseSafely(code.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void RandomGarbageNeverCrashes()
    {
        var random = new Random(Seed);
        for (int i = 0; i < 2000; i++)
        {
            byte[] garbage = new byte[random.Next(0, 4096)];
            random.NextBytes(garbage);

            // Plant a volume signature so the header checks, not just the scan, see garbage.
            if (garbage.Length >= 0x40 && i % 2 == 0)
            {
                int at = random.Next(0, (garbage.Length - 0x38) / 8) * 8;
                BinaryPrimitives.WriteUInt32LittleEndian(garbage.AsSpan(at + 0x28), 0x4856465F);
            }

            ParseSafely(garbage);
        }
    }

    [Theory]
    [InlineData(FirmwareFixtures.Code, "SECFV")]
    [InlineData(FirmwareFixtures.Code4M, "SECFV")]
    [InlineData(FirmwareFixtures.Code, "PEIFV")]
    public void MutatedVolumesNeverCrash(string fixture, string which)
    {
        FirmwareImage image = FirmwareFixtures.Parse(fixture);
        FirmwareVolume volume = which == "SECFV"
            ? image.Volumes[^1]
            : image.EnumerateVolumes().First(v => v.ImageOffset is null);
        byte[] original = volume.Data.ToArray();
        List<int> headerOffsets = HeaderOffsets(volume);
        var random = new Random(Seed);
        var stopwatch = Stopwatch.StartNew();

        for (int i = 0; i < 3000; i++)
        {
            byte[] mutated = (byte[])original.Clone();
            int edits = random.Next(1, 9);
            for (int e = 0; e < edits; e++)
            {
                // Aim most edits at structure headers, where a parser can be led astray.
                int at = random.Next(4) == 0
                    ? random.Next(mutated.Length)
                    : Math.Min(mutated.Length - 1, headerOffsets[random.Next(headerOffsets.Count)] + random.Next(48));
                mutated[at] = (byte)random.Next(256);
            }

            ParseSafely(mutated);
        }

        // A guard against a mutation that sends the parser into a near-endless loop, not a
        // benchmark: ≈1 s unloaded, a generous bound for a loaded CI machine.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), $"fuzzing took {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void CorruptLzmaStreamIsReportedNotThrown()
    {
        byte[] code = FirmwareFixtures.Load(FirmwareFixtures.Code);
        FirmwareSection lzma = FirmwareFixtures.Parse(FirmwareFixtures.Code).Volumes[0].Files[0].Sections[0];
        int payload = (int)lzma.ImageOffset!.Value + lzma.HeaderLength + 20;

        // An absurd uncompressed size must not be allocated.
        byte[] huge = (byte[])code.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge.AsSpan(payload + 5), 1UL << 40);
        FirmwareImage hugeImage = FirmwareImage.Parse(huge);
        Assert.False(hugeImage.Volumes[0].Files[0].Sections[0].IsDecoded);
        Assert.Contains(hugeImage.Diagnostics, d => d.Contains("decompression limit", StringComparison.Ordinal));

        var random = new Random(Seed);
        for (int i = 0; i < 4; i++)
        {
            byte[] corrupt = (byte[])code.Clone();
            random.NextBytes(corrupt.AsSpan(payload + 13 + random.Next(64), 16));
            ParseSafely(corrupt);
        }
    }

    [Fact]
    public void ProcessingFreeGuidedSectionIsParsedInPlace()
    {
        // A GUID_DEFINED section (unknown GUID, PROCESSING_REQUIRED clear) wrapping a UI section.
        byte[] ui = [0x0E, 0, 0, (byte)FirmwareSectionType.UserInterface, (byte)'A', 0, (byte)'b', 0, (byte)'c', 0, 0, 0, 0, 0];
        const int guidedHeader = 4 + 20;
        byte[] guided = new byte[guidedHeader + ui.Length];
        guided[0] = (byte)guided.Length;
        guided[3] = (byte)FirmwareSectionType.GuidDefined;
        Guid.NewGuid().TryWriteBytes(guided.AsSpan(4));
        BinaryPrimitives.WriteUInt16LittleEndian(guided.AsSpan(20), guidedHeader);
        ui.CopyTo(guided, guidedHeader);
        var context = new ParseContext();

        List<FirmwareSection> sections = SectionParser.ParseStream(guided, 0x100, "test", context);

        FirmwareSection section = Assert.Single(sections);
        Assert.True(section.IsDecoded);
        FirmwareSection child = Assert.Single(section.Children);
        Assert.Equal("Abc", child.Text);
        Assert.Equal(0x100 + guidedHeader, child.ImageOffset);
        Assert.Empty(context.Diagnostics);

        guided[22] = 1;
        FirmwareSection kept = Assert.Single(SectionParser.ParseStream(guided, 0x100, "test", context));
        Assert.False(kept.IsDecoded);
        Assert.Empty(kept.Children);
    }

    private static List<int> HeaderOffsets(FirmwareVolume volume)
    {
        var offsets = new List<int> { 0 };
        foreach (FfsFile file in volume.Files)
        {
            offsets.Add((int)file.Offset);
            offsets.AddRange(file.Sections.Select(s => (int)file.DataOffset + s.Offset));
            offsets.AddRange(file.Sections.Where(s => s.Image is not null).Select(s => (int)file.DataOffset + s.Offset + s.HeaderLength));
        }

        return offsets;
    }

    private static void ParseSafely(byte[] bytes)
    {
        try
        {
            FirmwareImage image = FirmwareImage.Parse(bytes);
            _ = image.Modules.Count;
            _ = image.EnumerateVolumes().Count();
            BootEntryPoints.Locate(bytes);
        }
        catch (FirmwareFormatException)
        {
            // The one failure mode allowed for bytes that are not a firmware image.
        }
    }
}
