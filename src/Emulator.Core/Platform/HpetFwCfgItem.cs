using System.Buffers.Binary;

namespace Emulator.Core.Platform;

/// <summary>
/// fw_cfg's arch-local HPET item (key 0x8004), QEMU's <c>struct hpet_fw_config</c>
/// (include/hw/timer/hpet.h, filled by hw/timer/hpet.c): a count byte, then 8 packed entries of
/// event timer block ID (u32), address (u64), minimum tick (u16) and page protection (u8), 121
/// bytes in all, little-endian. The count starts at 0xFF and the first HPET's realize sets it to 0
/// before counting itself, so a machine without an HPET serves 0xFF and zeros; each HPET's reset
/// writes its ID and base, leaving the minimum tick and page protection 0. SeaBIOS builds its ACPI
/// HPET table from this; OVMF does not read it. docs/fw-cfg.md.
/// </summary>
public static class HpetFwCfgItem
{
    public const int MaxBlocks = 8;
    public const int EntrySize = 15;
    public const int Size = 1 + (MaxBlocks * EntrySize);

    /// <summary>The count byte before any HPET exists.</summary>
    public const byte NoHpet = 0xFF;

    public static byte[] Encode(IReadOnlyList<HpetBlock> blocks)
    {
        if (blocks.Count > MaxBlocks)
        {
            throw new ArgumentException($"at most {MaxBlocks} HPET blocks", nameof(blocks));
        }

        var item = new byte[Size];
        item[0] = blocks.Count == 0 ? NoHpet : (byte)blocks.Count;
        for (int i = 0; i < blocks.Count; i++)
        {
            var entry = item.AsSpan(1 + (i * EntrySize), EntrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, blocks[i].EventTimerBlockId);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], blocks[i].Address);
        }

        return item;
    }
}
