using System.Buffers.Binary;
using System.Text;

namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// The script QEMU hands the firmware as fw_cfg file <c>etc/table-loader</c> (QEMU
/// hw/acpi/bios-linker-loader.c; EDK II OvmfPkg/Include/IndustryStandard/QemuLoader.h): 128-byte
/// little-endian entries, a command word then a union whose file names are 56-byte NUL-padded
/// fw_cfg names. ALLOCATE loads a file into guest memory, ADD_POINTER adds a file's load address
/// to a field that holds an offset into it, ADD_CHECKSUM stores the 8-bit checksum of a range,
/// WRITE_POINTER tells the host where a file landed. Commands are kept in the order they are
/// added, except that each ALLOCATE goes in front of every earlier command, as QEMU's
/// bios_linker_loader_alloc prepends it (so the last file allocated is loaded first).
/// </summary>
public sealed class TableLoader
{
    public const int EntrySize = 128;
    public const int FileNameSize = 56;

    public const uint CommandAllocate = 1;
    public const uint CommandAddPointer = 2;
    public const uint CommandAddChecksum = 3;
    public const uint CommandWritePointer = 4;

    /// <summary>ALLOCATE zones: anywhere (high) or the 0xE0000–0xFFFFF F-segment (OVMF ignores zones).</summary>
    public const byte ZoneHigh = 1;
    public const byte ZoneFSeg = 2;

    // Field offsets from the entry start (QemuLoader.h QEMU_LOADER_ENTRY and its union members).
    private const int FileOffset = 4;
    private const int SecondFileOffset = 60;
    private const int AllocateAlignOffset = 60;
    private const int AllocateZoneOffset = 64;
    private const int PointerOffsetOffset = 116;
    private const int PointerSizeOffset = 120;
    private const int ChecksumResultOffset = 60;
    private const int ChecksumStartOffset = 64;
    private const int ChecksumLengthOffset = 68;
    private const int WritePointerSourceOffsetOffset = 120;
    private const int WritePointerSizeOffset = 124;

    private readonly List<byte[]> _allocations = [];
    private readonly List<byte[]> _commands = [];

    /// <summary>ALLOCATE <paramref name="file"/> aligned to <paramref name="alignment"/> (a power of two) in <paramref name="zone"/>.</summary>
    public void Allocate(string file, uint alignment, byte zone)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "must be a power of two");
        }

        var e = Entry(CommandAllocate, file);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(AllocateAlignOffset), alignment);
        e[AllocateZoneOffset] = zone;
        _allocations.Insert(0, e);
    }

    /// <summary>ADD_POINTER: the <paramref name="size"/>-byte field at <paramref name="offset"/> of <paramref name="destination"/> gets <paramref name="source"/>'s address added.</summary>
    public void AddPointer(string destination, uint offset, byte size, string source)
    {
        CheckPointerSize(size);
        var e = Entry(CommandAddPointer, destination);
        Name(source).CopyTo(e, SecondFileOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(PointerOffsetOffset), offset);
        e[PointerSizeOffset] = size;
        _commands.Add(e);
    }

    /// <summary>ADD_CHECKSUM: the byte at <paramref name="resultOffset"/> becomes the checksum of [start, start + length) of <paramref name="file"/>.</summary>
    public void AddChecksum(string file, uint resultOffset, uint start, uint length)
    {
        var e = Entry(CommandAddChecksum, file);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(ChecksumResultOffset), resultOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(ChecksumStartOffset), start);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(ChecksumLengthOffset), length);
        _commands.Add(e);
    }

    /// <summary>WRITE_POINTER: the firmware writes <paramref name="source"/>'s address plus <paramref name="sourceOffset"/> into fw_cfg file <paramref name="destination"/> at <paramref name="offset"/>.</summary>
    public void WritePointer(string destination, uint offset, byte size, string source, uint sourceOffset)
    {
        CheckPointerSize(size);
        var e = Entry(CommandWritePointer, destination);
        Name(source).CopyTo(e, SecondFileOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(PointerOffsetOffset), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(WritePointerSourceOffsetOffset), sourceOffset);
        e[WritePointerSizeOffset] = size;
        _commands.Add(e);
    }

    /// <summary>The script: allocations (latest first), then the other commands in order, zero-padded to a multiple of <paramref name="padTo"/> bytes.</summary>
    public byte[] Encode(int padTo)
    {
        int used = (_allocations.Count + _commands.Count) * EntrySize;
        var script = new byte[(used + padTo - 1) / padTo * padTo];
        int at = 0;
        foreach (var entry in _allocations.Concat(_commands))
        {
            entry.CopyTo(script, at);
            at += EntrySize;
        }

        return script;
    }

    private static byte[] Entry(uint command, string file)
    {
        var e = new byte[EntrySize];
        BinaryPrimitives.WriteUInt32LittleEndian(e, command);
        Name(file).CopyTo(e, FileOffset);
        return e;
    }

    private static byte[] Name(string file)
    {
        var name = new byte[FileNameSize];
        if (Encoding.ASCII.GetByteCount(file) >= FileNameSize)
        {
            throw new ArgumentException($"fw_cfg file name '{file}' is too long for the loader", nameof(file));
        }

        Encoding.ASCII.GetBytes(file, name);
        return name;
    }

    private static void CheckPointerSize(byte size)
    {
        if (size is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "pointer size must be 1, 2, 4 or 8");
        }
    }
}
