using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Devices.FwCfg;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Support;

/// <summary>
/// fw_cfg as a guest drives it — selector 0x510, data 0x511, DMA 0x514/0x518 (big-endian halves)
/// — the way OVMF's QemuFwCfgLib does; for tests that must not reach into the device.
/// </summary>
public static class FwCfgGuest
{
    /// <summary>Where <see cref="Dma"/> puts its descriptor in guest RAM.</summary>
    public const ulong Descriptor = 0x10000;

    private const ushort DataPort = FwCfg.BasePort + 1;
    private const ushort DmaLowPort = FwCfg.DmaBasePort + 4;

    public static void Select(PcMachine m, ushort key) => m.Ports.Write(FwCfg.BasePort, 2, key);

    public static byte[] ReadData(PcMachine m, int count)
    {
        var b = new byte[count];
        for (int i = 0; i < count; i++)
        {
            b[i] = (byte)m.Ports.Read(DataPort, 1);
        }

        return b;
    }

    /// <summary>The file directory in its order: name, size, selector.</summary>
    public static List<(string Name, uint Size, ushort Key)> Directory(PcMachine m)
    {
        Select(m, FwCfg.FileDirKey);
        uint count = BinaryPrimitives.ReadUInt32BigEndian(ReadData(m, 4));
        var files = new List<(string, uint, ushort)>();
        for (int i = 0; i < count; i++)
        {
            var e = ReadData(m, FwCfg.FileEntrySize);
            string name = Encoding.ASCII.GetString(e, 8, FwCfg.FileNameLength).TrimEnd('\0');
            files.Add((name, BinaryPrimitives.ReadUInt32BigEndian(e), BinaryPrimitives.ReadUInt16BigEndian(e.AsSpan(4))));
        }

        return files;
    }

    /// <summary>A file's whole contents read through the data port after selecting it, or null when it is not listed.</summary>
    public static byte[]? ReadFile(PcMachine m, string name)
    {
        foreach (var (file, size, key) in Directory(m))
        {
            if (file == name)
            {
                Select(m, key);
                return ReadData(m, (int)size);
            }
        }

        return null;
    }

    /// <summary>Runs one DMA transfer with the descriptor at <see cref="Descriptor"/>; returns the control word written back.</summary>
    public static uint Dma(PcMachine m, uint control, uint length, ulong address)
    {
        Span<byte> d = stackalloc byte[FwCfgDmaPort.DescriptorSize];
        BinaryPrimitives.WriteUInt32BigEndian(d, control);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], length);
        BinaryPrimitives.WriteUInt64BigEndian(d[8..], address);
        m.Bus.WriteBlock(Descriptor, d);
        m.Ports.Write(FwCfg.DmaBasePort, 4, BinaryPrimitives.ReverseEndianness((uint)(Descriptor >> 32)));
        m.Ports.Write(DmaLowPort, 4, BinaryPrimitives.ReverseEndianness((uint)Descriptor));
        Span<byte> back = stackalloc byte[4];
        m.Bus.ReadBlock(Descriptor, back);
        return BinaryPrimitives.ReadUInt32BigEndian(back);
    }
}
