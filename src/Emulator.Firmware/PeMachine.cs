namespace Emulator.Firmware;

/// <summary>IMAGE_FILE_MACHINE values (PE/COFF spec, "Machine Types"). Other values are kept as-is.</summary>
public enum PeMachine : ushort
{
    Unknown = 0x0000,
    I386 = 0x014C,
    Arm = 0x01C2,
    Ebc = 0x0EBC,
    RiscV64 = 0x5064,
    Amd64 = 0x8664,
    Arm64 = 0xAA64,
}
