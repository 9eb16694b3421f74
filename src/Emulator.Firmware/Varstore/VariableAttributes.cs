namespace Emulator.Firmware.Varstore;

/// <summary>EFI_VARIABLE_* attribute bits (UEFI spec 8.2, SetVariable).</summary>
[Flags]
public enum VariableAttributes : uint
{
    None = 0,
    NonVolatile = 0x01,
    BootServiceAccess = 0x02,
    RuntimeAccess = 0x04,
    HardwareErrorRecord = 0x08,
    AuthenticatedWriteAccess = 0x10,
    TimeBasedAuthenticatedWriteAccess = 0x20,
    AppendWrite = 0x40,
    EnhancedAuthenticatedAccess = 0x80,
}
