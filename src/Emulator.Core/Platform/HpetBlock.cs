namespace Emulator.Core.Platform;

/// <summary>
/// One HPET timer block as the firmware learns of it through fw_cfg's HPET item: the low 32
/// bits of its General Capabilities and ID register (the event timer block ID) and its MMIO base.
/// </summary>
public sealed record HpetBlock(uint EventTimerBlockId, ulong Address);
