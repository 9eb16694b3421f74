namespace Emulator.Core.Devices.CfiFlash;

/// <summary>Intel/Sharp (CFI command set 0x0001) command bytes that QEMU's pflash_cfi01 accepts.</summary>
public static class FlashCommand
{
    public const byte ReadArrayZero = 0x00;
    public const byte SingleProgram = 0x10;
    public const byte BlockErase = 0x20;
    public const byte SingleProgramAlt = 0x40;
    public const byte ClearStatus = 0x50;
    public const byte LockSetup = 0x60;
    public const byte ReadStatus = 0x70;
    public const byte ReadIdentifier = 0x90;
    public const byte CfiQuery = 0x98;
    public const byte Confirm = 0xD0;
    public const byte WriteToBuffer = 0xE8;
    public const byte ReadArrayAmd = 0xF0;
    public const byte ReadArray = 0xFF;

    /// <summary>Second byte of a lock-bit sequence after 0x60 ("set lock"; 0xD0 clears).</summary>
    public const byte LockBlock = 0x01;
}

/// <summary>Status register bits (Intel 28F-series datasheets; QEMU keeps 0x80/0x20/0x10 only).</summary>
public static class FlashStatus
{
    public const byte Ready = 0x80;
    public const byte EraseError = 0x20;
    public const byte ProgramError = 0x10;
}
