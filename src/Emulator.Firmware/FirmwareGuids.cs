namespace Emulator.Firmware;

/// <summary>Well-known GUIDs from the UEFI PI specification and EDK II.</summary>
public static class FirmwareGuids
{
    /// <summary>EFI_FIRMWARE_FILE_SYSTEM2_GUID (PI spec Vol 3, 3.2.2).</summary>
    public static readonly Guid FirmwareFileSystem2 = new("8C8CE578-8A3D-4F1C-9935-896185C32DD3");

    /// <summary>EFI_FIRMWARE_FILE_SYSTEM3_GUID: FFS2 plus files larger than 16 MiB (PI spec Vol 3, 3.2.2).</summary>
    public static readonly Guid FirmwareFileSystem3 = new("5473C07A-3DCB-4DCA-BD6F-1E9689E7349A");

    /// <summary>EFI_SYSTEM_NV_DATA_FV_GUID: the authenticated variable store volume EDK II puts in OVMF_VARS.</summary>
    public static readonly Guid SystemNvDataFv = new("FFF12B8D-7696-4C8B-A985-2747075B4F50");

    /// <summary>EDK II LZMA custom decompress GUID used by GUID_DEFINED sections (BaseTools LzmaCompress).</summary>
    public static readonly Guid LzmaCustomDecompress = new("EE4E5898-3914-4259-9D6E-DC7BD79403CF");
}
