namespace Emulator.Core.Devices.Hpet;

/// <summary>
/// What QEMU's fw_cfg item 0x8004 (FW_CFG_HPET) says about one HPET block, as hpet_reset fills
/// QEMU's hpet_cfg: the event-timer block ID (the low half of the capabilities register) and
/// the block's base address. The item itself is a packed struct hpet_fw_config: a count byte,
/// then 8 entries of { u32 event_timer_block_id; u64 address; u16 min_tick; u8 page_prot }
/// (121 bytes, little-endian; QEMU leaves min_tick and page_prot 0) — docs/ioapic-hpet.md.
/// </summary>
public sealed record HpetFirmwareConfig(uint EventTimerBlockId, ulong Address);
