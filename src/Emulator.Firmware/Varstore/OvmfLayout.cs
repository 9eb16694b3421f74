using static Emulator.Firmware.Varstore.VarstoreLayout;

namespace Emulator.Firmware.Varstore;

/// <summary>
/// Where OVMF's drivers look inside its varstore volume. They use build-time PCDs, never the file:
/// OvmfPkg/Include/Fdf/OvmfPkgDefines.fdf.inc makes the FTW spare area (VARS_SPARE_SIZE) the
/// second half of the volume in every layout (0x10000 of 0x20000, 0x42000 of 0x84000), and
/// VarStore.fdf.inc puts before it the variable region (PcdFlashNvStorageVariableSize), one
/// event-log block and one FTW working block (PcdFlashNvStorageFtwWorkingSize = one block).
/// </summary>
internal sealed record OvmfLayout(int VariableRegionEnd, int WorkingBlock, int WorkingBlockSize, int SpareOffset, int SpareLength)
{
    /// <summary>The layout of a volume of this FvLength; null when no OVMF layout has that size.</summary>
    public static OvmfLayout? Of(long fvLength)
    {
        if (fvLength < 8L * OvmfBlockSize || fvLength > int.MaxValue || fvLength % (2 * OvmfBlockSize) != 0)
        {
            return null;
        }

        int spare = (int)(fvLength / 2);
        return new OvmfLayout(spare - (2 * OvmfBlockSize), spare - OvmfBlockSize, OvmfBlockSize, spare, spare);
    }
}
