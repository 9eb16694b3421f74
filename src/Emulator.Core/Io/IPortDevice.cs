namespace Emulator.Core.Io;

/// <summary>
/// A device on the x86 I/O port bus. <paramref name="offset"/> is relative to the first port of
/// the range the machine builder registered it for; size is 1, 2 or 4.
/// </summary>
public interface IPortDevice
{
    string Name { get; }

    uint Read(ushort offset, int size);

    void Write(ushort offset, int size, uint value);
}
