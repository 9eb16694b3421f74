namespace Emulator.Firmware;

/// <summary>EFI_FFS_FILE_ATTRIBUTES bits (PI spec Vol 3, 3.2.3.1).</summary>
[Flags]
public enum FfsFileAttributes : byte
{
    None = 0x00,
    LargeFile = 0x01,
    DataAlignment2 = 0x02,
    Fixed = 0x04,
    DataAlignmentMask = 0x38,
    Checksum = 0x40,
}
