namespace Emulator.Hosting.Boot;

/// <summary>
/// QEMU's <c>-boot</c> as the firmware sees it (docs/qemu-drop-in.md): <paramref name="Order"/> and
/// <paramref name="Once"/> become CMOS 0x3D/0x38 (read by a legacy BIOS, not by OVMF, which boots
/// by its Boot#### variables); <paramref name="Menu"/> is fw_cfg item FW_CFG_BOOT_MENU;
/// <paramref name="MenuWait"/> (splash-time, ms) the file <c>etc/boot-menu-wait</c>, OVMF's boot
/// countdown; <paramref name="RebootTimeout"/> the file <c>etc/boot-fail-wait</c>.
/// </summary>
public sealed record BootDeviceOptions(string Order = "cad", string? Once = null, bool Menu = false, ushort? MenuWait = null, int RebootTimeout = -1);
