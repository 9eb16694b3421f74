namespace Emulator.Core.Devices.CfiFlash;

/// <summary>
/// Intel/Sharp (CFI command set 0x0001) command bytes that QEMU's pflash_cfi01 accepts
/// (docs/qemu-pflash.md, "The cfi01 state machine"). Any other byte in cycle 0 is an
/// invalid sequence and returns the chip to read-array mode.
/// </summary>
public static class FlashCommand
{
    /// <summary>Not assigned by the CFI standard, but QEMU treats it as read array (its reset command value).</summary>
    public const byte ReadArrayZero = 0x00;

    /// <summary>Single byte program setup; the next write is the data.</summary>
    public const byte SingleProgram = 0x10;

    /// <summary>Block erase; QEMU erases the sector on this write, before any confirm.</summary>
    public const byte BlockErase = 0x20;

    /// <summary>The alternate single byte program setup.</summary>
    public const byte SingleProgramAlt = 0x40;

    /// <summary>Clear status: QEMU leaves status 0x00 (not ready) and returns to read array.</summary>
    public const byte ClearStatus = 0x50;

    /// <summary>Block lock/unlock setup; QEMU acknowledges but never locks.</summary>
    public const byte LockSetup = 0x60;

    public const byte ReadStatus = 0x70;

    public const byte ReadIdentifier = 0x90;

    public const byte CfiQuery = 0x98;

    /// <summary>Confirms an erase, a buffered write or an unlock.</summary>
    public const byte Confirm = 0xD0;

    public const byte WriteToBuffer = 0xE8;

    /// <summary>The AMD read/reset command, which QEMU's cfi01 accepts as read array.</summary>
    public const byte ReadArrayAmd = 0xF0;

    public const byte ReadArray = 0xFF;

    /// <summary>Second byte of a lock-bit sequence after 0x60 ("set lock"; 0xD0 clears).</summary>
    public const byte LockBlock = 0x01;
}

/// <summary>Status register bits (Intel 28F-series datasheets; QEMU keeps 0x80/0x20/0x10 only).</summary>
public static class FlashStatus
{
    /// <summary>The value clear-status leaves: no bit set, not even ready (QEMU quirk OVMF's probe relies on).</summary>
    public const byte Cleared = 0x00;

    public const byte Ready = 0x80;

    /// <summary>Erase failed (a read-only chip); sticky until clear status or reset.</summary>
    public const byte EraseError = 0x20;

    /// <summary>Program failed (a read-only chip, or a buffered write outside its window); sticky.</summary>
    public const byte ProgramError = 0x10;
}
