using System.Buffers.Binary;
using System.Text;

namespace Emulator.Core.Tests.Platform.Acpi;

/// <summary>
/// Runs an <c>etc/table-loader</c> script the way OVMF's AcpiPlatformDxe does
/// (OvmfPkg/AcpiPlatformDxe/QemuFwCfgAcpi.c at edk2-stable202211, docs/acpi-tables.md), and
/// fails on everything it rejects: pass 1 — ALLOCATE of a file that exists, once, alignment a
/// power of two up to 4096; ADD_POINTER within the pointer file, the old value inside the
/// pointee, the result fitting the width; ADD_CHECKSUM within the file (the result is stored);
/// WRITE_POINTER within its fw_cfg file and source. Blobs are placed at page-aligned addresses
/// below 4 GiB. Pass 2 — every address an ADD_POINTER produced is looked at: a FACS, or a table
/// whose length fits its blob and whose bytes sum to 0, is "installed"; RSDT/XSDT are skipped.
/// </summary>
public sealed class TableLoaderInterpreter
{
    private const int EntrySize = 128;
    private const uint FirstBase = 0x0700_0000;

    private readonly Func<string, byte[]?> _files;
    private readonly Dictionary<string, (ulong Base, byte[] Data)> _blobs = [];
    private readonly List<(string File, ulong Address)> _pointees = [];
    private ulong _next = FirstBase;

    /// <param name="files">fw_cfg file contents by name, null when the file does not exist.</param>
    public TableLoaderInterpreter(Func<string, byte[]?> files)
    {
        _files = files;
    }

    /// <summary>The loaded blobs (after pass 1, checksums and pointers applied).</summary>
    public IReadOnlyDictionary<string, (ulong Base, byte[] Data)> Blobs => _blobs;

    /// <summary>Commands processed, by command number.</summary>
    public List<uint> Commands { get; } = [];

    /// <summary>Runs both passes; returns the installed tables (signature, address) in first-pointed-to order.</summary>
    public List<(string Signature, ulong Address)> Run(byte[] script)
    {
        Assert.True(script.Length % EntrySize == 0, "the table-loader size must be a multiple of 128");
        for (int at = 0; at < script.Length; at += EntrySize)
        {
            var e = script.AsSpan(at, EntrySize);
            uint command = BinaryPrimitives.ReadUInt32LittleEndian(e);
            Commands.Add(command);
            switch (command)
            {
                case 1:
                    Allocate(Name(e[4..60]), BinaryPrimitives.ReadUInt32LittleEndian(e[60..]));
                    break;
                case 2:
                    AddPointer(Name(e[4..60]), Name(e[60..116]), BinaryPrimitives.ReadUInt32LittleEndian(e[116..]), e[120]);
                    break;
                case 3:
                    AddChecksum(Name(e[4..60]), BinaryPrimitives.ReadUInt32LittleEndian(e[60..]), BinaryPrimitives.ReadUInt32LittleEndian(e[64..]), BinaryPrimitives.ReadUInt32LittleEndian(e[68..]));
                    break;
                case 4:
                    WritePointer(Name(e[4..60]), Name(e[60..116]), BinaryPrimitives.ReadUInt32LittleEndian(e[116..]), BinaryPrimitives.ReadUInt32LittleEndian(e[120..]), e[124]);
                    break;
            }
        }

        return SecondPass();
    }

    /// <summary>The bytes at a loaded address (within one blob).</summary>
    public Span<byte> At(ulong address, int length)
    {
        foreach (var (_, (baseAddress, data)) in _blobs)
        {
            if (address >= baseAddress && address + (ulong)length <= baseAddress + (ulong)data.Length)
            {
                return data.AsSpan((int)(address - baseAddress), length);
            }
        }

        throw new Xunit.Sdk.XunitException($"0x{address:X} (+{length}) is in no loaded blob");
    }

    private static string Name(ReadOnlySpan<byte> field)
    {
        Assert.True(field[^1] == 0, "a loader file name must be NUL-terminated within 56 bytes");
        return Encoding.ASCII.GetString(field[..field.IndexOf((byte)0)]);
    }

    private void Allocate(string file, uint alignment)
    {
        Assert.True(alignment != 0 && (alignment & (alignment - 1)) == 0 && alignment <= 4096, $"bad alignment {alignment} for {file}");
        var data = _files(file);
        Assert.True(data != null, $"ALLOCATE of a file fw_cfg does not have: {file}");
        Assert.False(_blobs.ContainsKey(file), $"{file} allocated twice");
        _blobs[file] = (_next, (byte[])data!.Clone());
        _next += ((ulong)data.Length + 0xFFF) & ~0xFFFUL;
    }

    private void AddPointer(string pointer, string pointee, uint offset, byte size)
    {
        Assert.True(_blobs.ContainsKey(pointer) && _blobs.ContainsKey(pointee), $"ADD_POINTER {pointer} -> {pointee}: not allocated");
        Assert.Contains(size, new byte[] { 1, 2, 4, 8 });
        var (_, data) = _blobs[pointer];
        Assert.True(data.Length >= size && data.Length - size >= offset, $"ADD_POINTER field {offset}+{size} outside {pointer}");
        var (pointeeBase, pointeeData) = _blobs[pointee];
        ulong value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (ulong)data[offset + i] << (8 * i);
        }

        Assert.True(value < (ulong)pointeeData.Length, $"ADD_POINTER value 0x{value:X} outside {pointee}");
        value += pointeeBase;
        Assert.True(size == 8 || value >> (8 * size) == 0, "relocated pointer does not fit its width");
        for (int i = 0; i < size; i++)
        {
            data[offset + i] = (byte)(value >> (8 * i));
        }

        _pointees.Add((pointee, value));
    }

    private void AddChecksum(string file, uint result, uint start, uint length)
    {
        Assert.True(_blobs.ContainsKey(file), $"ADD_CHECKSUM of unallocated {file}");
        var (_, data) = _blobs[file];
        Assert.True(result < data.Length && length <= data.Length && data.Length - length >= start, $"ADD_CHECKSUM range outside {file}");
        byte sum = 0;
        foreach (byte b in data.AsSpan((int)start, (int)length))
        {
            sum += b;
        }

        data[result] = (byte)(0 - sum);
    }

    private void WritePointer(string destination, string source, uint offset, uint sourceOffset, byte size)
    {
        var target = _files(destination);
        Assert.True(target != null && _blobs.ContainsKey(source), $"WRITE_POINTER {destination} <- {source}");
        Assert.Contains(size, new byte[] { 1, 2, 4, 8 });
        Assert.True(target!.Length >= size && target.Length - size >= offset, "WRITE_POINTER field outside its fw_cfg file");
        Assert.True(sourceOffset < _blobs[source].Data.Length, "WRITE_POINTER source offset outside its blob");
    }

    private List<(string, ulong)> SecondPass()
    {
        var installed = new List<(string, ulong)>();
        foreach (var (file, address) in _pointees.DistinctBy(p => p.Address))
        {
            var (baseAddress, data) = _blobs[file];
            int offset = (int)(address - baseAddress);
            int remaining = data.Length - offset;
            if (remaining < 8)
            {
                continue;
            }

            string signature = Encoding.ASCII.GetString(data, offset, 4);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 4));
            if (signature == "FACS" && length >= 64 && length <= remaining)
            {
                installed.Add((signature, address));
                continue;
            }

            if (remaining < 36 || length < 36 || length > remaining)
            {
                continue;
            }

            byte sum = 0;
            foreach (byte b in data.AsSpan(offset, (int)length))
            {
                sum += b;
            }

            if (sum == 0 && signature != "RSDT" && signature != "XSDT")
            {
                installed.Add((signature, address));
            }
        }

        return installed;
    }
}
