using Emulator.Core.Memory;

namespace Emulator.Core.Io;

/// <summary>
/// A device on the x86 I/O port bus. <paramref name="offset"/> is relative to the first port of
/// the range the machine builder registered it for; size is 1, 2 or 4, as the device's
/// <see cref="Sizes"/> let through.
/// </summary>
public interface IPortDevice
{
    string Name { get; }

    /// <summary>
    /// The access sizes the device accepts and implements. A device that declares any splits
    /// the way QEMU's port I/O does (<see cref="PortBus"/>); the default passes every access on.
    /// </summary>
    AccessSizes Sizes => AccessSizes.Unrestricted;

    uint Read(ushort offset, int size);

    void Write(ushort offset, int size, uint value);
}
