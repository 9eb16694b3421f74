namespace Emulator.Firmware.Varstore;

/// <summary>
/// The outcome of a set or delete: the ordered writes, and the whole store after them (already
/// parsed back and checked). <see cref="Writes"/> is empty when nothing changes.
/// </summary>
public sealed record VarstoreEdit(byte[] Result, IReadOnlyList<FlashWrite> Writes, string Summary);
