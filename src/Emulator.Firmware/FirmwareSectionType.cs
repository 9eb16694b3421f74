namespace Emulator.Firmware;

/// <summary>EFI_SECTION_TYPE values (PI spec Vol 3, 3.2.5). Values outside the named set are kept as-is.</summary>
public enum FirmwareSectionType : byte
{
    All = 0x00,
    Compression = 0x01,
    GuidDefined = 0x02,
    Disposable = 0x03,
    Pe32 = 0x10,
    Pic = 0x11,
    Te = 0x12,
    DxeDepex = 0x13,
    Version = 0x14,
    UserInterface = 0x15,
    Compatibility16 = 0x16,
    FirmwareVolumeImage = 0x17,
    FreeformSubtypeGuid = 0x18,
    Raw = 0x19,
    PeiDepex = 0x1B,
    MmDepex = 0x1C,
}
