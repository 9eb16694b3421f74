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

    // The whole header the firmware expects (FtwMisc.c InitializeLocalWorkSpaceHeader): state byte
    // WorkingBlockValid = 0, WorkingBlockInvalid = 1, reserved bits and Reserved3 erased.
    public const byte FtwStateValid = 0xFE;
    public const int FtwReserved3 = 21;

    // EFI_FAULT_TOLERANT_WRITE_HEADER (FaultTolerantWrite.h): flags byte, CallerId at 4 (GUID
    // alignment), NumberOfWrites at 24, PrivateDataSize at 32; 40 bytes. Its flags hold
    // HeaderAllocated (bit 0), WritesAllocated (bit 1) and Complete (bit 2); FTW_VALID_STATE is 0,
    // so a cleared bit means "yes" on erase-polarity-1 flash.
    public const int FtwWriteHeaderSize = 40;
    public const int FtwNumberOfWrites = 24;
    public const int FtwPrivateDataSize = 32;
    public const byte FtwHeaderAllocatedBit = 0x01;
    public const byte FtwCompleteBit = 0x04;

    // EFI_FAULT_TOLERANT_WRITE_RECORD: flags (BootBlockUpdate bit 0, SpareComplete bit 1,
    // DestinationComplete bit 2), Lba at 8, Offset at 16, Length at 24, RelativeOffset at 32; 40 bytes.
    public const int FtwWriteRecordSize = 40;
    public const byte FtwSpareCompleteBit = 0x02;
    public const byte FtwDestinationCompleteBit = 0x04;
    public const int FtwRecordLba = 8;
    public const int FtwRecordOffset = 16;
    public const int FtwRecordLength = 24;

    /// <summary>PcdOvmfFirmwareBlockSize: OVMF's flash blocks, which its FV block map must use.</summary>
    public const int OvmfBlockSize = 0x1000;

    /// <summary>HEADER_ALIGN: records start on 4-byte boundaries.</summary>
    public static int Align4(int value) => (value + 3) & ~3;
}
