namespace Emulator.Firmware;

/// <summary>
/// EFI_FFS_FILE_STATE bits (PI spec Vol 3, 3.2.3.1), already normalised for the volume's erase
/// polarity so that a set bit always means "this state transition happened".
/// </summary>
[Flags]
public enum FfsFileState : byte
{
    None = 0x00,
    HeaderConstruction = 0x01,
    HeaderValid = 0x02,
    DataValid = 0x04,
    MarkedForUpdate = 0x08,
    Deleted = 0x10,
    HeaderInvalid = 0x20,
}
