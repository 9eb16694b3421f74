// fw_cfg DMA address register, I/O ports 0x514–0x51B on QEMU's pc machine (hw/nvram/fw_cfg.c
// fw_cfg_dma_mem_write/fw_cfg_dma_transfer; docs/specs/fw_cfg.rst "DMA interface").
// The register is big-endian: the guest writes the descriptor's physical address as two 32-bit
// halves, high at +0 then low at +4 (OVMF byte-swaps each with SwapBytes32), and the write of the
// low half starts the transfer. Reads return the bytes of "QEMU CFG" (the DMA signature).
// The descriptor (FWCfgDmaAccess, all big-endian): control (u32), length (u32), address (u64).
// Control bits: ERROR 0x01, READ 0x02, SKIP 0x04, SELECT 0x08 (key in bits 16–31), WRITE 0x10.
// Emulated as QEMU does: SELECT first; then READ copies item bytes to guest memory (zero-filling
// past the item's end), SKIP advances the offset, WRITE stores guest bytes into a writable file
// when the whole request fits from the current offset and is an ERROR otherwise (QEMU: !allow_write
// || len != dma.length), no operation bit transfers nothing; control is written back as 0, or ERROR.
// Not emulated: 64-bit accesses (port I/O has none), an IOMMU between device and memory.
using System.Buffers.Binary;
using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.FwCfg;

/// <summary>The fw_cfg DMA address register.</summary>
public sealed class FwCfgDmaPort : IPortDevice
{
    public const uint ControlError = 0x01;
    public const uint ControlRead = 0x02;
    public const uint ControlSkip = 0x04;
    public const uint ControlSelect = 0x08;
    public const uint ControlWrite = 0x10;
    public const int DescriptorSize = 16;

    private static readonly byte[] Signature = "QEMU CFG"u8.ToArray();

    private readonly FwCfg _device;
    private readonly PhysicalBus _bus;
    private ulong _address;

    internal FwCfgDmaPort(FwCfg device, PhysicalBus bus)
    {
        _device = device;
        _bus = bus;
    }

    public string Name => "fw_cfg-dma";

    /// <summary>Transfers completed (for tests and reports).</summary>
    public long Transfers { get; private set; }

    public uint Read(ushort offset, int size)
    {
        uint value = 0;
        for (int i = 0; i < size && offset + i < Signature.Length; i++)
        {
            value |= (uint)Signature[offset + i] << (8 * i);
        }

        return value;
    }

    public void Write(ushort offset, int size, uint value)
    {
        // QEMU accepts only aligned 32-bit halves (fw_cfg_dma_mem_valid); the device is
        // big-endian, so the value the guest's OUT carries is byte-swapped on the way in.
        if (size != 4)
        {
            return;
        }

        ulong half = BinaryPrimitives.ReverseEndianness(value);
        if (offset == 0)
        {
            _address = half << 32;
        }
        else if (offset == 4)
        {
            _address |= half;
            ulong descriptor = _address;
            _address = 0;
            Transfer(descriptor);
        }
    }

    /// <summary>Device reset (part of fw_cfg's): a half-written address is forgotten.</summary>
    public void Reset() => _address = 0;

    /// <summary>The high half written so far (0 when none), saved with fw_cfg's state.</summary>
    internal ulong Address => _address;

    internal void Restore(ulong address, long transfers)
    {
        _address = address;
        Transfers = transfers;
    }

    private void Transfer(ulong descriptor)
    {
        Transfers++;
        Span<byte> d = stackalloc byte[DescriptorSize];
        _bus.ReadBlock(descriptor, d);
        uint control = BinaryPrimitives.ReadUInt32BigEndian(d);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
        ulong address = BinaryPrimitives.ReadUInt64BigEndian(d[8..]);

        if ((control & ControlSelect) != 0)
        {
            _device.Select((ushort)(control >> 16));
        }

        bool read = (control & ControlRead) != 0;
        bool write = !read && (control & ControlWrite) != 0;
        if (!read && !write && (control & ControlSkip) == 0)
        {
            length = 0;
        }

        uint status = 0;
        var data = _device.SelectedData();
        bool writable = _device.SelectedWritable();
        while (length > 0 && status == 0)
        {
            int offset = _device.Offset;
            uint chunk;
            if (data == null || offset >= data.Length)
            {
                chunk = length;
                if (read)
                {
                    Fill(address, chunk);
                }
                else if (write)
                {
                    status = ControlError;
                }
            }
            else
            {
                chunk = Math.Min(length, (uint)(data.Length - offset));
                if (read)
                {
                    _bus.WriteBlock(address, data.AsSpan(offset, (int)chunk));
                }
                else if (write && writable && chunk == length)
                {
                    _bus.ReadBlock(address, data.AsSpan(offset, (int)chunk));
                }
                else if (write)
                {
                    status = ControlError;
                }

                _device.Offset = offset + (int)chunk;
            }

            address += chunk;
            length -= chunk;
        }

        Span<byte> result = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(result, status);
        _bus.WriteBlock(descriptor, result);
    }

    private void Fill(ulong address, uint length)
    {
        for (uint i = 0; i < length; i++)
        {
            _bus.Write(address + i, 1, 0);
        }
    }
}
