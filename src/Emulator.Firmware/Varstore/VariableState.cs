namespace Emulator.Firmware.Varstore;

/// <summary>
/// VARIABLE_HEADER.State values (VariableFormat.h). Flash bits can only be cleared, so each step of
/// a variable's life ANDs a mask into the byte: header written (0x7F), whole record written
/// (0x3F), old copy being replaced (AND 0xFE), deleted (AND 0xFD).
/// </summary>
public static class VariableState
{
    public const byte HeaderValidOnly = 0x7F;
    public const byte Added = 0x3F;
    public const byte InDeletedTransition = 0xFE;
    public const byte Deleted = 0xFD;

    /// <summary>VAR_ADDED with VAR_IN_DELETED_TRANSITION applied: a copy whose replacement may not have finished.</summary>
    public const byte AddedInTransition = Added & InDeletedTransition;

    public static string Describe(byte state) => state switch
    {
        Added => "added",
        AddedInTransition => "in-deleted-transition",
        HeaderValidOnly => "header-valid-only",
        0xFF => "erased",
        _ when IsDeleted(state) => "deleted",
        _ => $"0x{state:X2}",
    };

    /// <summary>True when the deleted bit (bit 1) has been cleared.</summary>
    public static bool IsDeleted(byte state) => (state & ~Deleted & 0xFF) == 0;
}
