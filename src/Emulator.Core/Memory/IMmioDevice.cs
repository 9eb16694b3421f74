namespace Emulator.Core.Memory;

/// <summary>
/// A device mapped into physical address space. Offsets are relative to the start of the
/// region the machine builder mapped it at; <paramref name="size"/> is one the device's
/// <see cref="Sizes"/> lets through (1, 2, 4 or 8 when it declares none) and never crosses the
/// region's end (the bus splits accesses that would).
/// </summary>
public interface IMmioDevice
{
    string Name { get; }

    /// <summary>The access sizes the device accepts and implements; the bus refuses, splits or widens the rest (<see cref="AccessSizes"/>).</summary>
    AccessSizes Sizes => AccessSizes.Unrestricted;

    ulong Read(ulong offset, int size);

    void Write(ulong offset, int size, ulong value);

    /// <summary>
    /// Bytes a debugger may read at <paramref name="offset"/> without any effect on the device
    /// (memory behind it, e.g. a flash chip's array whatever its command state); false for a
    /// device whose reads have effects or no such memory.
    /// </summary>
    bool TryReadForDebugger(ulong offset, Span<byte> destination) => false;
}
