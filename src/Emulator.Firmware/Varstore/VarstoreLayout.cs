namespace Emulator.Firmware.Varstore;

/// <summary>Byte layout of the structures in a varstore (PI spec Vol 3, 3.2.1; EDK II VariableFormat.h, SystemNvDataGuid.h).</summary>
internal static class VarstoreLayout
{
    // EFI_FIRMWARE_VOLUME_HEADER.
    public const int FvFileSystemGuid = 0x10;
    public const int FvLength = 0x20;
    public const int FvSignature = 0x28;
    public const int FvAttributes = 0x2C;
    public const int FvHeaderLength = 0x30;
    public const int FvChecksum = 0x32;
    public const int FvRevision = 0x37;
    public const int FvBlockMap = 0x38;
    public const int FvMinimumHeader = 0x48;
    public const uint FvhSignature = 0x4856465F; // "_FVH"

    // VARIABLE_STORE_HEADER: Signature GUID, Size, Format, State, Reserved, Reserved1.
    public const int StoreHeaderSize = 28;
    public const int StoreSize = 16;
    public const int StoreFormat = 20;
    public const int StoreState = 21;
    public const byte StoreFormatted = 0x5A;
    public const byte StoreHealthy = 0xFE;

    // VARIABLE_HEADER / AUTHENTICATED_VARIABLE_HEADER.
    public const ushort StartId = 0x55AA;
    public const int RecordState = 2;
    public const int RecordAttributes = 4;
    public const int AuthHeaderSize = 60;
    public const int AuthMonotonicCount = 8;
    public const int AuthTimeStamp = 16;
    public const int AuthPubKeyIndex = 32;
    public const int AuthNameSize = 36;
    public const int AuthDataSize = 40;
    public const int AuthVendorGuid = 44;
    public const int PlainHeaderSize = 32;
    public const int PlainNameSize = 8;
    public const int PlainDataSize = 12;
    public const int PlainVendorGuid = 16;
    public const int TimeStampSize = 16;

    // EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER: Signature, Crc, state bits, 3 reserved, WriteQueueSize.
    public const int FtwHeaderSize = 0x20;
    public const int FtwCrc = 16;
    public const int FtwState = 20;
    public const int FtwWriteQueueSize = 24;

    // EFI_FAULT_TOLERANT_WRITE_HEADER: its first byte holds HeaderAllocated (bit 0) and Complete (bit 2);
    // FTW_VALID_STATE is 0, so a cleared bit means "yes" on erase-polarity-1 flash.
    public const byte FtwHeaderAllocatedBit = 0x01;
    public const byte FtwCompleteBit = 0x04;

    /// <summary>HEADER_ALIGN: records start on 4-byte boundaries.</summary>
    public static int Align4(int value) => (value + 3) & ~3;
}
