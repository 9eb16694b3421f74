namespace Emulator.Firmware;

/// <summary>One EFI_FV_BLOCK_MAP_ENTRY (PI spec Vol 3, 3.2.1): a run of equally sized blocks.</summary>
public readonly record struct FvBlockMapEntry(uint NumBlocks, uint BlockLength);
