namespace Emulator.Core.Machine;

/// <summary>A flash image to map: its bytes, a display name, and whether the chip rejects writes.</summary>
public sealed record FlashImage(string Name, byte[] Contents, bool ReadOnly);

/// <summary>What to build: RAM size, flash units, and bus behaviour.</summary>
public sealed class MachineOptions
{
    public const ulong DefaultRamSize = 256UL << 20;

    public ulong RamSize { get; init; } = DefaultRamSize;

    /// <summary>The board: QEMU's <c>pc</c> (default) or <c>q35</c>.</summary>
    public PcChipset Chipset { get; init; } = PcChipset.I440fx;

    /// <summary>
    /// System Management Mode (QEMU's <c>-machine ...,smm=on|off</c>; under TCG <c>auto</c> means
    /// on, hw/i386/x86.c x86_machine_is_smm_enabled). On: the chipset raises SMIs from the APM
    /// control port, SMRAM is decoded, the FADT names SMI_CMD.
    /// </summary>
    public bool Smm { get; init; } = true;

    /// <summary>QEMU's <c>-global ICH9-LPC.disable_s3=1</c> / <c>PIIX4_PM.disable_s3=1</c>: S3 is not offered in <c>etc/system-states</c>.</summary>
    public bool DisableS3 { get; init; }

    /// <summary>QEMU's <c>-global cfi.pflash01.secure=on</c>: the flash chips accept writes only from SMM.</summary>
    public bool SecureFlash { get; init; }

    /// <summary>The CPU (QEMU's <c>-cpu</c>): qemu64, qemu-system-x86_64's default, or qemu32, qemu-system-i386's.</summary>
    public Cpu.CpuModel CpuModel { get; init; } = Cpu.CpuModel.Qemu64;

    /// <summary>
    /// SMM saves and restores the 32-bit state map: the machine stands in for qemu-system-i386,
    /// the only QEMU build with that map (<see cref="Cpu.Cpu.SmmSaveMap32"/>).
    /// </summary>
    public bool SmmSaveMap32 { get; init; }

    /// <summary>Unit 0 (code, or a unified image) and optionally unit 1 (varstore).</summary>
    public IReadOnlyList<FlashImage> Flash { get; init; } = [];

    /// <summary>QEMU's <c>-bios</c>: a firmware image mapped as ROM below 4 GiB, used when <see cref="Flash"/> is empty.</summary>
    public byte[]? Bios { get; init; }

    public ulong MaxFirmwareSize { get; init; } = FlashLayout.DefaultMaxFirmwareSize;

    /// <summary>QEMU reads unassigned memory as 0; real hardware (our default) as all-ones.</summary>
    public bool UnassignedReadsZero { get; init; }

    /// <summary>
    /// Let recognised PM-timer polling skip virtual time (<see cref="Timing.BusyWaitSkipper"/>).
    /// Off, every wait costs its full instructions — for measuring what the skipping saves.
    /// </summary>
    public bool SkipBusyWaits { get; init; } = true;

    /// <summary>
    /// The ISA serial ports, each at its index's legacy address (<see cref="IsaSerialPort"/>). The
    /// default is COM1 without a backend, as on QEMU's pc machine; an empty list is QEMU's
    /// <c>-nodefaults</c> without <c>-serial</c>: no UART at all.
    /// </summary>
    public IReadOnlyList<IsaSerialPort> SerialPorts { get; init; } = [new IsaSerialPort(0)];

    /// <summary>
    /// Drives on the pc machine's PIIX3 IDE channels (QEMU's <c>-drive if=ide,index=N</c>,
    /// <c>-hda</c>, <c>-cdrom</c>): e.g. <c>[IdeDrive.Disk(0, disk), IdeDrive.CdRom(iso)]</c>. The
    /// backends stay the caller's to dispose. Not on q35 (AHCI drives come later).
    /// </summary>
    public IReadOnlyList<Devices.Ide.IdeDrive> IdeDrives { get; init; } = [];

    /// <summary>
    /// virtio-blk-pci disks (QEMU's <c>-drive if=virtio</c>), one PCI function each, on pc and q35
    /// alike; see <see cref="Devices.Virtio.VirtioDrive"/> for their slots. The backends stay the
    /// caller's to dispose.
    /// </summary>
    public IReadOnlyList<Devices.Virtio.VirtioDrive> VirtioDrives { get; init; } = [];

    /// <summary>
    /// PCI slots to leave empty before the first free one a virtio drive takes: the slots QEMU's
    /// default VGA and NIC occupy (no <c>-nodefaults</c>), which emu does not model, so the disks
    /// sit where QEMU puts them and OVMF's device paths (Pci(0x3,0x0)…) match.
    /// </summary>
    public int AbsentDefaultPciSlots { get; init; }

    /// <summary>
    /// QEMU's <c>-boot order=</c>: up to three devices of "abcdn" (floppy, floppy, disk, CD-ROM,
    /// network) written as nibbles into CMOS 0x3D/0x38 (hw/i386/pc.c set_boot_dev). Default "cad".
    /// OVMF boots by its own Boot#### variables; only a legacy BIOS reads these bytes.
    /// </summary>
    public string BootOrder { get; init; } = "cad";

    /// <summary>QEMU's <c>-boot once=</c>: the CMOS order of the first boot; the first guest reset writes <see cref="BootOrder"/> (vl.c restore_boot_order).</summary>
    public string? BootOrderOnce { get; init; }

    /// <summary>QEMU's <c>-boot menu=on</c>: fw_cfg item 0x0E (FW_CFG_BOOT_MENU) is 1.</summary>
    public bool BootMenu { get; init; }

    /// <summary>QEMU's <c>-boot splash-time=MS</c>: the fw_cfg file <c>etc/boot-menu-wait</c> (16-bit LE), which OVMF reads as its boot countdown (QemuBootOrderLib GetFrontPageTimeoutFromQemu); absent when null.</summary>
    public ushort? BootMenuWait { get; init; }

    /// <summary>QEMU's <c>-boot reboot-timeout=MS</c>: the fw_cfg file <c>etc/boot-fail-wait</c> (32-bit LE; -1, the default, means no reboot).</summary>
    public int RebootTimeout { get; init; } = -1;

    /// <summary>The HPET at 0xFED00000, as QEMU's pc machine has by default; false is QEMU's <c>-no-hpet</c>.</summary>
    public bool Hpet { get; init; } = true;

    /// <summary>What the RTC shows at virtual time 0 (default <see cref="PcMachine.DefaultRtcStart"/>).</summary>
    public DateTime? RtcStart { get; init; }

    /// <summary>A guest reset or triple fault ends the run instead of restarting the machine (QEMU's -no-reboot).</summary>
    public bool NoReboot { get; init; }

    /// <summary>Resets allowed before the run stops as a reset loop.</summary>
    public int MaxResets { get; init; } = PcMachine.DefaultMaxResets;

    /// <summary>Receives bytes written to the debug console port 0x402 (OVMF DEBUG builds log there).</summary>
    public Action<byte>? DebugConsoleOutput { get; init; }

    /// <summary>The debug console's port: 0x402 as OVMF expects (QEMU's isa-debugcon default is 0xE9, so harnesses set iobase=0x402).</summary>
    public ushort DebugConsolePort { get; init; } = Devices.Misc.DebugCon.Port;

    /// <summary>
    /// QEMU's <c>-device isa-debug-exit,iobase=…,iosize=…</c>: a write to these ports ends the run
    /// with an exit status the guest chose (<see cref="PcMachine.GuestExitStatus"/>); null: no such device.
    /// </summary>
    public DebugExitPorts? DebugExit { get; init; }

    /// <summary>SMBIOS type 11 OEM strings (QEMU's <c>-smbios type=11,value=…</c>), as bytes; none: no type 11.</summary>
    public IReadOnlyList<byte[]> SmbiosOemStrings { get; init; } = [];
}

/// <summary>Where the isa-debug-exit device answers: <paramref name="Count"/> ports from <paramref name="Base"/>.</summary>
public sealed record DebugExitPorts(ushort Base = Devices.Misc.IsaDebugExit.DefaultPort, int Count = Devices.Misc.IsaDebugExit.DefaultPortCount);
