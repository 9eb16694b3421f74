using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Emulator.Firmware;
using Emulator.Fuzz.Tests.Support;

namespace Emulator.Fuzz.Tests.Targets;

/// <summary>
/// Seeds cut from the parsed fixtures (a volume, a file's section stream, a PE/TE image, an LZMA
/// payload) with their hot offsets: the header fields the parsers trust, found from the parsed
/// model rather than hard-coded, so a mutation lands on a length or offset field half the time.
/// Each fixture is parsed (and its LZMA inflated) once per run; the targets then mutate small
/// parts instead of re-inflating 13 MiB per input.
/// </summary>
internal static class FirmwareSeeds
{
    public const string Code = "OVMF_CODE.fd";
    public const string Code4M = "OVMF_CODE_4M.fd";
    public const string Unified = "OVMF.fd";
    public const string Code32SecBoot = "OVMF32_CODE_4M.secboot.fd";

    private static readonly ConcurrentDictionary<string, Parsed> s_parsed = new();

    /// <summary>A seed and the offsets in it that the mutators favour.</summary>
    public sealed record Seed(byte[] Bytes, IReadOnlyList<int> Hot);

    /// <summary>The fixture with hot offsets on its top-level structures (the LZMA payload header included).</summary>
    public static Seed Image(string fixture)
    {
        Parsed parsed = Parse(fixture);
        var hot = new HotOffsets(parsed.Bytes, 0);
        foreach (FirmwareVolume volume in parsed.Image.Volumes)
        {
            hot.AddVolume(volume);
        }

        return new Seed(parsed.Bytes, hot.Offsets);
    }

    /// <summary>
    /// A volume: "boot" is the one at the end of the image (SECFV), "pei"/"dxe" the first/last
    /// volume inside FVMAIN_COMPACT's LZMA section (PEIFV/DXEFV).
    /// </summary>
    public static Seed Volume(string fixture, string which)
    {
        Parsed parsed = Parse(fixture);
        (byte[] container, FirmwareVolume volume) = which switch
        {
            "boot" => (parsed.Bytes, parsed.Image.Volumes[^1]),
            "pei" => (parsed.Inflated.Bytes, parsed.Inflated.Image.Volumes[0]),
            "dxe" => (parsed.Inflated.Bytes, parsed.Inflated.Image.Volumes[^1]),
            _ => throw new ArgumentOutOfRangeException(nameof(which), which, "boot, pei or dxe"),
        };
        int start = ArrayOffset(volume.Data);
        var hot = new HotOffsets(container, start);
        hot.AddVolume(volume);
        return new Seed(Seeds.Slice(container, start, volume.Data.Length), hot.Offsets);
    }

    /// <summary>The section stream (file data) of the first file of <paramref name="type"/> inside the LZMA section.</summary>
    public static Seed SectionStream(string fixture, FfsFileType type)
    {
        Parsed parsed = Parse(fixture);
        FfsFile file = parsed.Inflated.Image.EnumerateVolumes().SelectMany(v => v.Files).First(f => f.Type == type);
        int start = ArrayOffset(file.Data);
        var hot = new HotOffsets(parsed.Inflated.Bytes, start);
        hot.AddSections(file.Sections);
        return new Seed(Seeds.Slice(parsed.Inflated.Bytes, start, file.Data.Length), hot.Offsets);
    }

    /// <summary>The image (PE32/PE32+/TE section data) of the first module that <paramref name="pick"/> accepts.</summary>
    public static Seed PeImage(string fixture, Func<FirmwareModule, bool> pick)
    {
        Parsed parsed = Parse(fixture);

        // Modules of the inflated volumes from the parse of the seed-registered inflated bytes, so
        // the seed keeps its fixture origin; the rest (SEC) lie in the fixture itself.
        FirmwareModule module = parsed.Inflated.Image.Modules
            .Concat(parsed.Image.Modules.Where(m => ArraySegmentOf(m.ImageSection.Data).Array == parsed.Bytes))
            .First(pick);
        ReadOnlyMemory<byte> data = module.ImageSection.Data;
        byte[] container = ArraySegmentOf(data).Array!;
        int start = ArrayOffset(data);
        var hot = new HotOffsets(container, start);
        hot.AddImage(data.Span, start);
        return new Seed(Seeds.Slice(container, start, data.Length), hot.Offsets);
    }

    /// <summary>
    /// A TE image made from a fixture's PE32/PE32+ module the way EDK II GenFw does (PI spec Vol 1,
    /// "TE image"): the headers up to the section table stripped and an EFI_TE_IMAGE_HEADER in their
    /// place, then the section table and the first 512 bytes after it. The fixtures hold no TE image;
    /// being built rather than cut, it has no fixture origin, and the parser reads only its headers.
    /// </summary>
    public static Seed TeImage(string fixture)
    {
        ReadOnlySpan<byte> pe = Parse(fixture).Image.Modules.First(m => m.Image.Format != PeImageFormat.Te).ImageSection.Data.Span;
        int coff = BinaryPrimitives.ReadInt32LittleEndian(pe[0x3C..]) + 4;
        int sections = BinaryPrimitives.ReadUInt16LittleEndian(pe[(coff + 2)..]);
        int optional = coff + 20;
        int table = optional + BinaryPrimitives.ReadUInt16LittleEndian(pe[(coff + 16)..]);
        bool plus = BinaryPrimitives.ReadUInt16LittleEndian(pe[optional..]) == 0x20B;
        int directories = optional + (plus ? 112 : 96);
        byte[] te = new byte[PeImageInfo.TeHeaderSize + (sections * 40) + 512];
        Span<byte> header = te;
        header[0] = (byte)'V';
        header[1] = (byte)'Z';
        pe.Slice(coff, 2).CopyTo(header[2..]);                                        // Machine
        header[4] = (byte)sections;
        header[5] = pe[optional + 68];                                                // Subsystem
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)table);          // StrippedSize
        pe.Slice(optional + 16, 8).CopyTo(header[8..]);                               // AddressOfEntryPoint, BaseOfCode
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], plus                   // ImageBase
            ? BinaryPrimitives.ReadUInt64LittleEndian(pe[(optional + 24)..])
            : BinaryPrimitives.ReadUInt32LittleEndian(pe[(optional + 28)..]));
        pe.Slice(directories + (5 * 8), 16).CopyTo(header[24..]);                      // base relocation and debug directories
        pe[table..].Slice(0, te.Length - PeImageInfo.TeHeaderSize).CopyTo(header[PeImageInfo.TeHeaderSize..]);

        var hot = new HotOffsets(te, 0);
        hot.AddImage(te, 0);
        return new Seed(te, hot.Offsets);
    }

    /// <summary>
    /// The head of FVMAIN_COMPACT's LZMA payload (properties, size, the first <paramref name="streamBytes"/>
    /// of the stream) with the declared size cut to <paramref name="declaredSize"/>, so one decode
    /// costs a fraction of the 13 MiB the whole payload inflates to.
    /// </summary>
    public static Seed LzmaHead(string fixture, int streamBytes, uint declaredSize)
    {
        Parsed parsed = Parse(fixture);
        byte[] head = Seeds.Slice(parsed.Bytes, parsed.LzmaPayload.Offset, Math.Min(parsed.LzmaPayload.Length, 13 + streamBytes));
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(5), declaredSize);
        return new Seed(head, [0, 1, 5, 13, 16, 24]);
    }

    private static Parsed Parse(string fixture) => s_parsed.GetOrAdd(fixture, name =>
    {
        byte[] bytes = Seeds.Fixture(name);
        FirmwareImage image = FirmwareImage.Parse(bytes);
        FirmwareSection lzma = image.EnumerateVolumes()
            .SelectMany(v => v.Files).SelectMany(f => f.Sections).SelectMany(s => s.SelfAndDescendants())
            .First(s => s.SectionGuid == FirmwareGuids.LzmaCustomDecompress && s.IsDecoded);

        // DataOffset counts from the section header; the payload follows the GUID-defined fields.
        int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(lzma.Data.Span[16..]) - lzma.HeaderLength;
        var payload = new Range32(ArrayOffset(lzma.Data) + dataOffset, lzma.Data.Length - dataOffset);
        byte[] inflated = Seeds.Inflated(bytes, payload.Offset, payload.Length);
        return new Parsed(bytes, image, payload, new Decoded(inflated, FirmwareImage.Parse(inflated)));
    });

    private static ArraySegment<byte> ArraySegmentOf(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment) ? segment : throw new InvalidOperationException("model data is not an array slice");

    private static int ArrayOffset(ReadOnlyMemory<byte> data) => ArraySegmentOf(data).Offset;

    private sealed record Decoded(byte[] Bytes, FirmwareImage Image);

    private sealed record Parsed(byte[] Bytes, FirmwareImage Image, Range32 LzmaPayload, Decoded Inflated);

    /// <summary>Header field offsets of structures that lie in one array, relative to a seed's start in it.</summary>
    private sealed class HotOffsets(byte[] container, int seedStart)
    {
        public List<int> Offsets { get; } = [];

        public void AddVolume(FirmwareVolume volume)
        {
            if (!InContainer(volume.Data, out int at))
            {
                return;
            }

            // FvLength, Signature, Attributes, HeaderLength/Checksum/ExtHeaderOffset, block map (PI Vol 3, 3.2.1.1).
            Add(at, 0x20, 0x28, 0x2C, 0x30, 0x34, 0x38);
            int ext = BinaryPrimitives.ReadUInt16LittleEndian(volume.Data.Span[0x34..]);
            if (ext != 0)
            {
                Add(at + ext, 0x10);
            }

            foreach (FfsFile file in volume.Files)
            {
                // IntegrityCheck, Type, Attributes, Size[3], State, then ExtendedSize of a large file.
                Add(at + (int)file.Offset, 0x10, 0x18);
                AddSections(file.Sections);
            }
        }

        public void AddSections(IEnumerable<FirmwareSection> sections)
        {
            foreach (FirmwareSection section in sections)
            {
                if (!InContainer(section.Data, out int data))
                {
                    continue;
                }

                // Size[3] and Type, then ExtendedSize or the type-specific fields.
                int header = data - section.HeaderLength;
                Add(header, 0, 4);
                if (section.Type == FirmwareSectionType.GuidDefined)
                {
                    // DataOffset and Attributes, then the LZMA properties, size and stream start.
                    int payload = header + BinaryPrimitives.ReadUInt16LittleEndian(section.Data.Span[16..]);
                    Add(data + 16, 0);
                    Add(payload, 0, 5, 13);
                }

                if (section.Image is not null)
                {
                    AddImage(section.Data.Span, data);
                }

                if (section.Volume is not null)
                {
                    AddVolume(section.Volume);
                }

                AddSections(section.Children);
            }
        }

        public void AddImage(ReadOnlySpan<byte> image, int at)
        {
            if (image.Length >= 0x40 && image[0] == 'M' && image[1] == 'Z')
            {
                // e_lfanew, then the PE signature, COFF header and optional header fields the parser reads.
                Add(at, 0, 0x3C);
                int pe = at + BinaryPrimitives.ReadInt32LittleEndian(image[0x3C..]);
                Add(pe, 0, 4, 0x10, 0x18, 0x18 + 16, 0x18 + 24, 0x18 + 56);
                return;
            }

            // EFI_TE_IMAGE_HEADER and the VirtualSize/VirtualAddress of each section header.
            Add(at, 0, 8, 16);
            int sections = image.Length > 4 ? image[4] : 0;
            for (int i = 0; i < sections; i++)
            {
                Add(at + PeImageInfo.TeHeaderSize + (i * 40), 8);
            }
        }

        private bool InContainer(ReadOnlyMemory<byte> data, out int offset)
        {
            ArraySegment<byte> segment = ArraySegmentOf(data);
            offset = segment.Offset;
            return segment.Array == container;
        }

        private void Add(int structure, params int[] fields)
        {
            foreach (int field in fields)
            {
                int at = structure + field - seedStart;
                if (at >= 0)
                {
                    Offsets.Add(at);
                }
            }
        }
    }
}
