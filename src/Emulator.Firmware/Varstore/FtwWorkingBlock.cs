namespace Emulator.Firmware.Varstore;

/// <summary>
/// The fault-tolerant-write working block header (EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER,
/// MdeModulePkg/Include/Guid/SystemNvDataGuid.h) and the spare area that follows its write queue.
/// FaultTolerantWriteDxe uses them to rewrite the variable store safely when it reclaims space.
/// </summary>
public sealed record FtwWorkingBlock(
    int Offset,
    bool CrcValid,
    bool MarkedValid,
    ulong WriteQueueSize,
    bool WriteQueueEmpty,
    bool FirstWriteComplete,
    int SpareOffset,
    int SpareLength);
