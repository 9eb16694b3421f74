namespace Emulator.Core.Memory;

/// <summary>
/// A device mapped into physical address space. Offsets are relative to the start of the
/// region the machine builder mapped it at; <paramref name="size"/> is 1, 2, 4 or 8 bytes and
/// never crosses the region's end (the bus splits accesses that would).
/// </summary>
public interface IMmioDevice
{
    string Name { get; }

    ulong Read(ulong offset, int size);

    void Write(ulong offset, int size, ulong value);
}
