using Emulator.Hosting.Boot;
using Emulator.Core.Machine;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Qemu;

/// <summary>A <c>-drive if=pflash</c> (or <c>-pflash</c>): the unit, the file, and QEMU's readonly and snapshot.</summary>
public sealed record PflashDrive(int Unit, string File, bool ReadOnly, bool Snapshot);

/// <summary>What a QEMU command line asks for, in emu's terms (<see cref="QemuCommandLine"/> builds it).</summary>
public sealed record QemuConfig
{
    /// <summary>The board: <c>-machine pc</c> (default) or <c>q35</c>.</summary>
    public Core.Machine.PcChipset Chipset { get; init; } = Core.Machine.PcChipset.I440fx;

    /// <summary><c>-machine ...,smm=on|off|auto</c>: auto (the default) is on under TCG.</summary>
    public bool Smm { get; init; } = true;

    /// <summary><c>-global driver=cfi.pflash01,property=secure,value=on</c>: flash writes only from SMM.</summary>
    public bool SecureFlash { get; init; }

    /// <summary><c>-global ICH9-LPC.disable_s3=1</c> (q35) or <c>PIIX4_PM.disable_s3=1</c> (pc).</summary>
    public bool DisableS3 { get; init; }

    /// <summary><c>-cpu</c>: qemu64 (qemu-system-x86_64's default) or qemu32 (qemu-system-i386's).</summary>
    public Core.Cpu.CpuModel Cpu { get; init; } = Core.Cpu.CpuModel.Qemu64;

    /// <summary>The command line is qemu-system-i386's: qemu32 by default and the 32-bit SMM state-save map.</summary>
    public bool I386 { get; init; }

    /// <summary>The IDE drives (<c>-drive</c> if=ide, <c>-hda</c>…<c>-hdd</c>, <c>-cdrom</c>, a bare image, QEMU's default CD-ROM) at their indexes.</summary>
    public IReadOnlyList<BootDrive> IdeDrives { get; init; } = [];

    /// <summary>The virtio-blk disks (<c>-device virtio-blk-pci,drive=ID</c>, then <c>-drive if=virtio</c>) in the order they take PCI slots.</summary>
    public IReadOnlyList<BootDrive> VirtioDrives { get; init; } = [];

    /// <summary>QEMU's default devices emu does not model that take PCI slots before the virtio disks (VGA, the NIC): slots left empty.</summary>
    public int AbsentDefaultPciSlots { get; init; }


    /// <summary>Images given without format= (QEMU probes them and warns that it guessed raw).</summary>
    public IReadOnlyList<string> ProbedImages { get; init; } = [];

    /// <summary><c>-boot</c>: the boot order and what it tells the firmware.</summary>
    public BootDeviceOptions Boot { get; init; } = new();

    /// <summary>QEMU's warnings for the command line (printed as <c>PROGRAM: warning: TEXT</c>), e.g. a global that names no class.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>QEMU's RAM without <c>-m</c>: 128 MiB on pc and q35 (hw/i386/pc.c pc_machine_class_init, default_ram_size).</summary>
    public const ulong DefaultMemory = 128UL << 20;

    /// <summary><c>-m</c>: guest RAM in bytes.</summary>
    public ulong Memory { get; init; } = DefaultMemory;

    /// <summary>Flash units by unit number (0 = code or unified image, 1 = varstore).</summary>
    public IReadOnlyList<PflashDrive> Pflash { get; init; } = [];

    /// <summary><c>-bios</c>: mapped as ROM when no pflash drive is given (QEMU ignores it otherwise).</summary>
    public string? Bios { get; init; }

    /// <summary>The ISA serial ports in the order QEMU creates them (<c>-serial</c> first, then <c>-device isa-serial</c>).</summary>
    public IReadOnlyList<SerialPortSpec> SerialPorts { get; init; } = [];

    /// <summary>QEMU's <c>mon:stdio</c> (the -nographic default): Ctrl-A x quits, Ctrl-A Ctrl-A types Ctrl-A.</summary>
    public bool ConsoleMux { get; init; }

    /// <summary>The isa-debugcon backend, or null when there is no debug console.</summary>
    public SerialBackend? DebugCon { get; init; }

    /// <summary>isa-debugcon's I/O port: QEMU's default 0xE9 unless <c>iobase</c> says otherwise (OVMF uses 0x402).</summary>
    public ushort DebugConPort { get; init; } = QemuCommandLine.DebugConDefaultPort;

    /// <summary><c>-smbios type=11</c>: the OEM strings in command-line order.</summary>
    public IReadOnlyList<SmbiosOemString> OemStrings { get; init; } = [];

    /// <summary><c>-device isa-debug-exit</c>: its ports, or null when there is none.</summary>
    public DebugExitPorts? DebugExit { get; init; }

    /// <summary><c>-snapshot</c>: every drive as with snapshot=on.</summary>
    public bool Snapshot { get; init; }

    /// <summary><c>-no-reboot</c>: a guest reset ends the run.</summary>
    public bool NoReboot { get; init; }

    /// <summary><c>-no-hpet</c> or <c>-machine hpet=off</c>: the machine without its HPET.</summary>
    public bool NoHpet { get; init; }

    /// <summary><c>-gdb DEV</c> or <c>-s</c>: where the gdb server listens.</summary>
    public System.Net.IPEndPoint? Gdb { get; init; }

    /// <summary><c>-S</c>: the CPU waits at the reset vector until gdb continues it (emu has no monitor to say <c>cont</c>).</summary>
    public bool GdbWait { get; init; }

    /// <summary><c>-no-shutdown</c>: a guest power-off keeps the process until a signal.</summary>
    public bool NoShutdown { get; init; }

    /// <summary><c>-icount sleep=off</c>: guest waits are not held to the wall clock.</summary>
    public bool NoSleep { get; init; }

    /// <summary>Default devices QEMU would add that emu does not model (printed as a warning).</summary>
    public IReadOnlyList<string> UnmodelledDefaults { get; init; } = [];

    /// <summary><c>-version</c> or <c>-help</c>: print and exit 0.</summary>
    public string? InfoRequest { get; init; }
}
