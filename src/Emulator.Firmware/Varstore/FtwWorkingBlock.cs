namespace Emulator.Firmware.Varstore;

/// <summary>
/// The fault-tolerant-write working block header (EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER,
/// MdeModulePkg/Include/Guid/SystemNvDataGuid.h) and the spare area of OVMF's layout.
/// FaultTolerantWriteDxe uses them to rewrite the variable store safely when it reclaims space.
/// <see cref="HeaderValid"/> is the firmware's own test (FtwMisc.c IsValidWorkSpace: the whole
/// header equals the one it builds); the queue fields are meaningful only when it holds.
/// </summary>
public sealed record FtwWorkingBlock(
    int Offset,
    bool HeaderValid,
    bool CrcValid,
    bool MarkedValid,
    ulong WriteQueueSize,
    bool WriteQueueEmpty,
    bool WritesComplete,
    int SpareOffset,
    int SpareLength);
