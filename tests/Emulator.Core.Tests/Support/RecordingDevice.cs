using Emulator.Core.Io;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Support;

/// <summary>
/// An MMIO and port device declaring <paramref name="sizes"/> whose reads return the offset
/// (plus <paramref name="readBase"/>); every access is recorded as (kind, offset, size, value).
/// </summary>
public sealed class RecordingDevice(AccessSizes sizes, string name = "recorder", ulong readBase = 0) : IMmioDevice, IPortDevice
{
    public RecordingDevice(string name = "recorder", ulong readBase = 0)
        : this(AccessSizes.Unrestricted, name, readBase)
    {
    }

    public List<(string, ulong, int, ulong)> Accesses { get; } = [];

    public string Name => name;

    public AccessSizes Sizes => sizes;

    public ulong Read(ulong offset, int size)
    {
        Accesses.Add(("r", offset, size, 0));
        return readBase + offset;
    }

    public void Write(ulong offset, int size, ulong value) => Accesses.Add(("w", offset, size, value));

    public uint Read(ushort offset, int size) => (uint)Read((ulong)offset, size);

    public void Write(ushort offset, int size, uint value) => Write((ulong)offset, size, (ulong)value);
}
