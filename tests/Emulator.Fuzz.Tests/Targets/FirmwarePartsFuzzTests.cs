using Emulator.Firmware;
using Emulator.Fuzz.Tests.Support;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// Target "section-stream": SectionParser.ParseStream on one file's mutated section stream. It
/// documents no exception at all: a malformed section ends the list with a diagnostic.
/// </summary>
[Trait("Category", "Fuzz")]
public class SectionStreamFuzzTests
{
    private const string Target = "section-stream";
    private static readonly FuzzOptions Options = new(Iterations: 1500, AllocationLimit: FirmwareTargets.ImageAllocationLimit);

    public static TheoryData<string> Corpus => FuzzRun.CorpusFiles(Target);

    [Theory]
    [InlineData(FirmwareSeeds.Code, FfsFileType.PeiCore)]
    [InlineData(FirmwareSeeds.Code, FfsFileType.Peim)]
    [InlineData(FirmwareSeeds.Code, FfsFileType.DxeCore)]
    [InlineData(FirmwareSeeds.Code, FfsFileType.Driver)]
    [InlineData(FirmwareSeeds.Code32SecBoot, FfsFileType.Peim)]
    public void MutatedStreams(string fixture, FfsFileType fileType)
    {
        FirmwareSeeds.Seed seed = FirmwareSeeds.SectionStream(fixture, fileType);
        FuzzRun.Run($"{Target}-{fixture}-{fileType}", Mutations.Of(seed.Bytes, seed.Hot), Parse, Nothing, Options);
    }

    [Fact]
    public void Garbage() => FuzzRun.Run($"{Target}-garbage", Mutations.Garbage(1024), Parse, Nothing, Options);

    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusReplays(string entry) => FuzzRun.Replay(Target, entry, Parse, Nothing, Options);

    private static bool Nothing(Exception e) => false;

    private static void Parse(byte[] bytes)
    {
        foreach (FirmwareSection section in SectionParser.ParseStream(bytes, 0, "fuzz", new ParseContext()).SelectMany(s => s.SelfAndDescendants()))
        {
            _ = section.ToString();
        }
    }
}

/// <summary>
/// Target "lzma": LzmaSectionDecoder.Decode on a mutated LZMA payload head (properties, declared
/// size, stream). Documented: <see cref="FirmwareFormatException"/>. Whatever the header claims
/// (a 4 GiB size, a 2 GiB dictionary), the decoder allocates in proportion to what it really
/// decodes, within the parse's decompression budget.
/// </summary>
[Trait("Category", "Fuzz")]
public class LzmaFuzzTests
{
    private const string Target = "lzma";

    // The seed decodes 256 KiB from 48 KiB of stream; whatever size a mutated header claims, the
    // decoder's allocation must follow what the stream produces, far below the claim.
    private static readonly FuzzOptions Options = new(Iterations: 600, AllocationLimit: 64L << 20);

    public static TheoryData<string> Corpus => FuzzRun.CorpusFiles(Target);

    [Theory]
    [InlineData(FirmwareSeeds.Code)]
    [InlineData(FirmwareSeeds.Code32SecBoot)]
    public void MutatedPayloads(string fixture)
    {
        FirmwareSeeds.Seed seed = FirmwareSeeds.LzmaHead(fixture, streamBytes: 48 << 10, declaredSize: 256 << 10);
        FuzzRun.Run($"{Target}-{fixture}", Mutations.Of(seed.Bytes, seed.Hot), Decode, FirmwareTargets.IsDocumented, Options);
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusReplays(string entry) => FuzzRun.Replay(Target, entry, Decode, FirmwareTargets.IsDocumented, Options);

    private static void Decode(byte[] payload) => LzmaSectionDecoder.Decode(payload, new ParseContext());
}

/// <summary>
/// Target "pe-image": <see cref="PeImageInfo.Parse"/> on mutated PE32, PE32+ and TE images cut
/// from the firmware, whole and cut to the header extent the module recognizer reads in guest
/// memory. Documented: <see cref="FirmwareFormatException"/>.
/// </summary>
[Trait("Category", "Fuzz")]
public class PeImageFuzzTests
{
    private const string Target = "pe-image";
    private static readonly FuzzOptions Options = new(Iterations: 4000, AllocationLimit: 1 << 20);

    public static TheoryData<string> Corpus => FuzzRun.CorpusFiles(Target);

    [Theory]
    [InlineData(FirmwareSeeds.Code, "pe32+")]
    [InlineData(FirmwareSeeds.Code, "pe32+ e_lfanew 0xE58")]
    [InlineData(FirmwareSeeds.Code, "te")]
    [InlineData(FirmwareSeeds.Code32SecBoot, "pe32")]
    [InlineData(FirmwareSeeds.Code32SecBoot, "te")]
    public void MutatedImages(string fixture, string kind)
    {
        FirmwareSeeds.Seed seed = kind switch
        {
            "pe32+" => FirmwareSeeds.PeImage(fixture, m => m.Image.Format == PeImageFormat.Pe32Plus),
            "pe32+ e_lfanew 0xE58" => FirmwareSeeds.PeImage(fixture, m => m.Image.Format == PeImageFormat.Pe32Plus && m.Image.HeaderExtent > 0xE58),
            "pe32" => FirmwareSeeds.PeImage(fixture, m => m.Image.Format == PeImageFormat.Pe32),
            _ => FirmwareSeeds.TeImage(fixture),
        };
        FuzzRun.Run($"{Target}-{fixture}-{kind}", Mutations.Of(seed.Bytes, seed.Hot), Parse, FirmwareTargets.IsDocumented, Options);
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusReplays(string entry) => FuzzRun.Replay(Target, entry, Parse, FirmwareTargets.IsDocumented, Options);

    private static void Parse(byte[] image)
    {
        PeImageInfo info = PeImageInfo.Parse(image);

        // ModuleRecognizer parses headers in guest memory cut to the largest header extent it knows.
        PeImageInfo.TryParse(image.AsSpan(0, Math.Min(image.Length, info.HeaderExtent)), out _);
        _ = info.EntryAddressWhenHeaderAt(info.HeaderAddress);
    }
}
