// The control block of one ATA channel: a single port (primary 0x3F6, secondary 0x376) that
// reads the alternate status and writes the device control register (QEMU hw/ide/ioport.c,
// ide_status_read / ide_ctrl_write). QEMU's portio list has a 1-byte entry only (softmmu/
// ioport.c portio_read/portio_write): a word read returns the register with 0xFF above it, a
// word write writes its low byte, dword reads return all ones and dword writes are dropped.
// The registers themselves live in the channel (IdeChannel).
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Ide;

/// <summary>The alternate-status / device-control port of an <see cref="IdeChannel"/>.</summary>
public sealed class IdeControlBlock : IPortDevice
{
    public const int PortCount = 1;

    private readonly IdeChannel _channel;

    public IdeControlBlock(IdeChannel channel)
    {
        _channel = channel;
    }

    public string Name => _channel.Name + "-control";

    public uint Read(ushort offset, int size) => size switch
    {
        1 => _channel.ReadAlternateStatus(),
        2 => _channel.ReadAlternateStatus() | 0xFF00u,
        _ => uint.MaxValue,
    };

    public void Write(ushort offset, int size, uint value)
    {
        if (size <= 2)
        {
            _channel.WriteDeviceControl((byte)value);
        }
    }
}
