using System.Buffers.Binary;
using CsCheck;
using Emulator.Firmware;
using Emulator.Fuzz.Tests.Support;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// Target "firmware-image": <see cref="BootEntryPoints.Locate(byte[])"/> (which parses the image:
/// volumes, FFS files, sections, LZMA, PE/TE headers) and a walk over the whole model, as
/// <c>inspect</c>, <c>compat</c> and <c>boot</c> use it. The documented answer to bytes that are
/// not firmware is <see cref="FirmwareFormatException"/>; damage inside a volume gives a partial
/// model with diagnostics.
/// </summary>
[Trait("Category", "Fuzz")]
public class FirmwareImageFuzzTests
{
    private const string Target = "firmware-image";

    // One whole-image input inflates FVMAIN_COMPACT's 13 MiB of LZMA unless the mutation breaks it:
    // fewer per image; the volume targets below mutate the inflated volumes at a much lower cost.
    private static readonly FuzzOptions WholeImage = new(Iterations: 60, AllocationLimit: FirmwareTargets.ImageAllocationLimit);
    private static readonly FuzzOptions OneVolume = new(Iterations: 400, AllocationLimit: FirmwareTargets.ImageAllocationLimit);

    public static TheoryData<string> Corpus => FuzzRun.CorpusFiles(Target);

    [Theory]
    [InlineData(FirmwareSeeds.Code)]
    [InlineData(FirmwareSeeds.Code4M)]
    [InlineData(FirmwareSeeds.Unified)]
    [InlineData(FirmwareSeeds.Code32SecBoot)]
    public void MutatedImages(string fixture)
    {
        FirmwareSeeds.Seed seed = FirmwareSeeds.Image(fixture);
        FuzzRun.Run($"{Target}-{fixture}", Mutations.Of(seed.Bytes, seed.Hot), FirmwareTargets.LocateAndWalk, FirmwareTargets.IsDocumented, WholeImage);
    }

    [Theory]
    [InlineData(FirmwareSeeds.Code, "boot")]
    [InlineData(FirmwareSeeds.Code, "pei")]
    [InlineData(FirmwareSeeds.Code, "dxe")]
    [InlineData(FirmwareSeeds.Code32SecBoot, "boot")]
    [InlineData(FirmwareSeeds.Code32SecBoot, "pei")]
    public void MutatedVolumes(string fixture, string volume)
    {
        FirmwareSeeds.Seed seed = FirmwareSeeds.Volume(fixture, volume);
        FuzzRun.Run($"{Target}-{fixture}-{volume}", Mutations.Of(seed.Bytes, seed.Hot), FirmwareTargets.LocateAndWalk, FirmwareTargets.IsDocumented, OneVolume);
    }

    /// <summary>Random bytes with a volume header planted at a random 8-byte boundary, so the header checks see garbage.</summary>
    [Fact]
    public void GarbageWithVolumeSignature() =>
        FuzzRun.Run($"{Target}-garbage", GarbageVolume, FirmwareTargets.LocateAndWalk, FirmwareTargets.IsDocumented,
            new FuzzOptions(Iterations: 3000, AllocationLimit: FirmwareTargets.ImageAllocationLimit));

    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusReplays(string entry) =>
        FuzzRun.Replay(Target, entry, FirmwareTargets.LocateAndWalk, FirmwareTargets.IsDocumented, new FuzzOptions(AllocationLimit: FirmwareTargets.ImageAllocationLimit));

    private static readonly Gen<byte[]> GarbageVolume =
        Gen.Select(Mutations.Garbage(4096), Gen.Int[0, 63], Gen.Bool, (bytes, slot, ffs2) =>
        {
            int at = slot * 8;
            if (at + 0x48 <= bytes.Length)
            {
                if (ffs2)
                {
                    FirmwareGuids.FirmwareFileSystem2.TryWriteBytes(bytes.AsSpan(at + 0x10));
                }

                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 0x28), 0x4856465F); // "_FVH"
            }

            return bytes;
        });
}
