namespace Emulator.Firmware.Varstore;

/// <summary>GUIDs of the variable store format (EDK II MdeModulePkg/Include/Guid/VariableFormat.h, SystemNvDataGuid.h).</summary>
public static class VariableGuids
{
    /// <summary>gEfiAuthenticatedVariableGuid: a store of AUTHENTICATED_VARIABLE_HEADER records (60-byte headers).</summary>
    public static readonly Guid AuthenticatedVariableStore = new("AAF32C78-947B-439A-A180-2E144EC37792");

    /// <summary>gEfiVariableGuid: a store of plain VARIABLE_HEADER records (32-byte headers).</summary>
    public static readonly Guid VariableStore = new("DDCF3616-3275-4164-98B6-FE85707FFE7D");

    /// <summary>gEdkiiWorkingBlockSignatureGuid: the fault-tolerant-write working block header (FaultTolerantWriteDxe).</summary>
    public static readonly Guid FtwWorkingBlockSignature = new("9E58292B-7C68-497D-A0CE-6500FD9F1B95");

    /// <summary>EFI_GLOBAL_VARIABLE (UEFI spec 3.3): Boot####, BootOrder, Lang, Timeout …</summary>
    public static readonly Guid EfiGlobalVariable = new("8BE4DF61-93CA-11D2-AA0D-00E098032B8C");

    /// <summary>gEfiImageSecurityDatabaseGuid (UEFI spec 32.6.1): the Secure Boot signature databases db, dbx, dbt.</summary>
    public static readonly Guid ImageSecurityDatabase = new("D719B2CB-3D3A-4596-A3BC-DAD00E67656F");
}
