namespace Emulator.Core.Machine;

/// <summary>
/// Which of QEMU's two PC boards to build (QEMU hw/i386/pc_piix.c and pc_q35.c): the i440FX +
/// PIIX3/PIIX4 "pc" machine or the Q35 (MCH) + ICH9 "q35" machine. Both share the ISA devices,
/// the interrupt controllers, fw_cfg and the flash placement.
/// </summary>
public enum PcChipset
{
    /// <summary>QEMU's <c>-machine pc</c> (pc-i440fx-7.2).</summary>
    I440fx,

    /// <summary>QEMU's <c>-machine q35</c> (pc-q35-7.2).</summary>
    Q35,
}
