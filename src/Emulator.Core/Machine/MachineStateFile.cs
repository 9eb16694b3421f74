using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Emulator.Core.Cpu;
using Emulator.Core.Devices;
using Emulator.Core.Memory;
using Emulator.Core.Timing;

namespace Emulator.Core.Machine;

/// <summary>
/// The state file: a <see cref="MachineSnapshot"/> (and the host's session record) on disk.
/// Layout, all integers little-endian:
/// <code>
/// "EMUSTATE"  u32 version (2: x87 registers as 80-bit values)  u32 0
/// section*    u32 tag  u64 length  payload
///   "META"    UTF-8 JSON: machine type, RAM size, each flash unit's placement, read-only flag and SHA-256
///   "MACH"    UTF-8 JSON: CPU, devices (name, state type, state), scheduler, busy-wait, run state
///   "SESS"    UTF-8 JSON: the host's session (milestones, console ...), opaque here
///   "FLSH"    u32 unit, then the unit's contents, zlib
///   "RAM "    u64 run count, runs (u64 first page, u64 pages), then the runs' bytes, zlib
/// "END "  u64 32  SHA-256 of every byte before this section
/// </code>
/// RAM is sparse (pages that are all zero are not written) and compressed, so a 256 MiB machine
/// at the Shell is a few megabytes. A reader checks the magic, the version and the checksum
/// before it believes anything: a truncated or damaged file is refused whole.
/// </summary>
public static class MachineStateFile
{
    public const int Version = 2;
    private static readonly byte[] Magic = "EMUSTATE"u8.ToArray();
    private const int HeaderSize = 16;
    private const int PageSize = (int)PhysicalBus.PageSize;

    /// <summary>Serializes the plain records: fields too (segment registers, tuples), doubles by their bits (x87 NaN payloads survive).</summary>
    private static readonly JsonSerializerOptions Json = new()
    {
        IncludeFields = true,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        Converters = { new DoubleBitsConverter(), new JsonStringEnumConverter() },
    };

    /// <summary>What the file says about where it came from (read without the rest by <see cref="ReadMeta"/>).</summary>
    public sealed record StateMeta(string MachineType, ulong RamSize, IReadOnlyList<FlashUnitMeta> Flash, string Emulator);

    /// <summary>One flash unit as saved: placement, whether the chip refused writes, and the SHA-256 of its contents (lower-case hex).</summary>
    public sealed record FlashUnitMeta(int Unit, string Name, ulong Base, ulong Size, bool ReadOnly, string Sha256);

    /// <summary>A state file read back: the snapshot (dispose it), what META said, and the host's session JSON (null when none).</summary>
    public sealed record Loaded(MachineSnapshot Snapshot, StateMeta Meta, JsonNode? Session);

    private sealed record MachineDocument(
        CpuSnapshot Cpu, IReadOnlyList<DeviceRecord> Devices, SchedulerState Scheduler, BusyWaitState BusyWait, long PortAccesses, MachineRunState Run, UnassignedLogState Unassigned);

    private sealed record DeviceRecord(string Name, string Type, JsonElement State);

    public static StateMeta MetaOf(MachineSnapshot s, IReadOnlyList<bool> readOnly) => new(
        s.MachineType,
        s.RamSize,
        s.FlashLayout.Select(p => new FlashUnitMeta(p.Unit, p.Name, p.Base, p.Size, readOnly[p.Unit], Convert.ToHexStringLower(SHA256.HashData(s.Flash[p.Unit])))).ToList(),
        typeof(MachineStateFile).Assembly.GetName().Version?.ToString() ?? "0");

    /// <summary>Writes <paramref name="snapshot"/> to <paramref name="output"/> (the caller makes the file crash-safe).</summary>
    public static void Write(Stream output, MachineSnapshot snapshot, IReadOnlyList<bool> readOnly, JsonNode? session)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), Version);
        Emit(output, hash, header);
        Section(output, hash, "META", JsonSerializer.SerializeToUtf8Bytes(MetaOf(snapshot, readOnly), Json));
        var devices = snapshot.Devices.Select(d => new DeviceRecord(d.Name, d.State.GetType().FullName!, JsonSerializer.SerializeToElement(d.State, d.State.GetType(), Json))).ToList();
        var machine = new MachineDocument(snapshot.Cpu, devices, snapshot.Scheduler, snapshot.BusyWait, snapshot.PortAccesses, snapshot.Run, snapshot.Unassigned);
        Section(output, hash, "MACH", JsonSerializer.SerializeToUtf8Bytes(machine, Json));
        if (session != null)
        {
            Section(output, hash, "SESS", Encoding.UTF8.GetBytes(session.ToJsonString()));
        }

        foreach (var p in snapshot.FlashLayout)
        {
            var unit = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(unit, p.Unit);
            Section(output, hash, "FLSH", [.. unit, .. Compress(snapshot.Flash[p.Unit])]);
        }

        Section(output, hash, "RAM ", RamSection(snapshot.Ram));
        var tail = new byte[12];
        Encoding.ASCII.GetBytes("END ").CopyTo(tail, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(4), 32);
        output.Write(tail);
        output.Write(hash.GetHashAndReset());
    }

    /// <summary>Reads a whole state file; <see cref="StateFileException"/> with a one-line reason when it is not one this emu can restore.</summary>
    public static Loaded Read(string path)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StateFileException($"cannot read state file '{path}': {e.Message}");
        }

        var sections = Sections(file, path);
        try
        {
            var meta = JsonSerializer.Deserialize<StateMeta>(Single(sections, "META", path), Json)!;
            var doc = JsonSerializer.Deserialize<MachineDocument>(Single(sections, "MACH", path), Json)!;
            var session = sections.TryGetValue("SESS", out var s) ? JsonNode.Parse(s[0]) : null;
            var flash = new byte[meta.Flash.Count][];
            foreach (var f in sections.GetValueOrDefault("FLSH", []))
            {
                flash[BinaryPrimitives.ReadInt32LittleEndian(f)] = Decompress(f.AsSpan(4));
            }

            var layout = meta.Flash.Select(f => new FlashPlacement(f.Unit, f.Name, f.Base, f.Size)).ToList();
            var ram = ReadRam(Single(sections, "RAM ", path), meta.RamSize);
            var snapshot = new MachineSnapshot
            {
                MachineType = meta.MachineType,
                RamSize = meta.RamSize,
                FlashLayout = layout,
                Cpu = doc.Cpu,
                Devices = doc.Devices.Select(d => new NamedDeviceState(d.Name, DeviceStateOf(d))).ToList(),
                Scheduler = doc.Scheduler,
                BusyWait = doc.BusyWait,
                PortAccesses = doc.PortAccesses,
                Run = doc.Run,
                Unassigned = doc.Unassigned,
                Ram = ram,
                Flash = flash,
            };
            return new Loaded(snapshot, meta, session);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException or IndexOutOfRangeException or NullReferenceException or OverflowException)
        {
            throw new StateFileException($"state file '{path}' is damaged: {e.Message.Split('\n')[0]}");
        }
    }

    private static DeviceState DeviceStateOf(DeviceRecord d)
    {
        var type = typeof(DeviceState).Assembly.GetType(d.Type);
        if (type == null || !type.IsSubclassOf(typeof(DeviceState)))
        {
            throw new ArgumentException($"device '{d.Name}' has a state of unknown type {d.Type}");
        }

        return (DeviceState)d.State.Deserialize(type, Json)!;
    }

    /// <summary>The sections by tag, after the magic, version and checksum have been checked.</summary>
    private static Dictionary<string, List<byte[]>> Sections(byte[] file, string path)
    {
        if (file.Length < HeaderSize || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new StateFileException($"'{path}' is not an emu state file");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8));
        if (version != Version)
        {
            throw new StateFileException($"state file '{path}' has format version {version}; this emu reads version {Version}");
        }

        var result = new Dictionary<string, List<byte[]>>();
        int at = HeaderSize;
        while (true)
        {
            if (file.Length - at < 12)
            {
                throw new StateFileException($"state file '{path}' is truncated (at byte {at} of {file.Length})");
            }

            string tag = Encoding.ASCII.GetString(file, at, 4);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at + 4));
            if (length > (ulong)(file.Length - at - 12))
            {
                throw new StateFileException($"state file '{path}' is truncated (section '{tag.TrimEnd()}' needs {length} bytes, {file.Length - at - 12} left)");
            }

            var payload = file.AsSpan(at + 12, (int)length);
            if (tag == "END ")
            {
                if (length != 32 || !SHA256.HashData(file.AsSpan(0, at)).AsSpan().SequenceEqual(payload))
                {
                    throw new StateFileException($"state file '{path}' is damaged (checksum mismatch)");
                }

                return result;
            }

            if (!result.TryGetValue(tag, out var list))
            {
                result[tag] = list = [];
            }

            list.Add(payload.ToArray());
            at += 12 + (int)length;
        }
    }

    private static byte[] Single(Dictionary<string, List<byte[]>> sections, string tag, string path) =>
        sections.TryGetValue(tag, out var list) && list.Count == 1 ? list[0] : throw new StateFileException($"state file '{path}' is damaged (no single '{tag.TrimEnd()}' section)");

    private static unsafe byte[] RamSection(RamImage ram)
    {
        using var buffer = new MemoryStream();
        var count = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(count, (ulong)ram.Runs.Count);
        buffer.Write(count);
        foreach (var run in ram.Runs)
        {
            var entry = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(entry, run.FirstPage);
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(8), run.Pages);
            buffer.Write(entry);
        }

        using (var z = new ZLibStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var run in ram.Runs)
            {
                // Runs can exceed what one span holds; write them a megabyte at a time.
                for (ulong done = 0; done < run.Pages * PageSize; done += 1 << 20)
                {
                    int chunk = (int)Math.Min(1UL << 20, (run.Pages * PageSize) - done);
                    z.Write(ram.Bytes((run.FirstPage * PageSize) + done, chunk));
                }
            }
        }

        return buffer.ToArray();
    }

    private static RamImage ReadRam(byte[] section, ulong ramSize)
    {
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(section);
        if (count > ramSize / PageSize)
        {
            throw new InvalidDataException($"{count} RAM runs for {ramSize} bytes");
        }

        var runs = new List<RamImage.PageRun>();
        for (int i = 0; i < (int)count; i++)
        {
            var run = new RamImage.PageRun(BinaryPrimitives.ReadUInt64LittleEndian(section.AsSpan(8 + (16 * i))), BinaryPrimitives.ReadUInt64LittleEndian(section.AsSpan(16 + (16 * i))));
            if (run.Pages == 0 || run.FirstPage + run.Pages > ramSize / PageSize)
            {
                throw new InvalidDataException($"a RAM run (page {run.FirstPage}, {run.Pages} pages) outside {ramSize} bytes");
            }

            runs.Add(run);
        }

        using var z = new ZLibStream(new MemoryStream(section, 8 + (16 * (int)count), section.Length - 8 - (16 * (int)count)), CompressionMode.Decompress);
        return RamImage.Build(ramSize, runs, z.ReadExactly);
    }

    private static byte[] Compress(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var z = new ZLibStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(data);
        }

        return buffer.ToArray();
    }

    private static byte[] Decompress(ReadOnlySpan<byte> data)
    {
        using var z = new ZLibStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress);
        using var result = new MemoryStream();
        z.CopyTo(result);
        return result.ToArray();
    }

    private static void Section(Stream output, IncrementalHash hash, string tag, byte[] payload)
    {
        var head = new byte[12];
        Encoding.ASCII.GetBytes(tag).CopyTo(head, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(4), (ulong)payload.Length);
        Emit(output, hash, head);
        Emit(output, hash, payload);
    }

    private static void Emit(Stream output, IncrementalHash hash, byte[] bytes)
    {
        hash.AppendData(bytes);
        output.Write(bytes);
    }

    /// <summary>A double as its IEEE bits, so every value (NaNs with payloads, negative zero) comes back exactly.</summary>
    private sealed class DoubleBitsConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            BitConverter.UInt64BitsToDouble(reader.GetUInt64());

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) =>
            writer.WriteNumberValue(BitConverter.DoubleToUInt64Bits(value));
    }
}
