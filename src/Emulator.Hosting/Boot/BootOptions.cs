using Emulator.Core.Machine;
using Emulator.Hosting.Reporting;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Boot;

/// <summary>
/// The QEMU front end's behaviour: -no-shutdown (a power-off waits for a signal), and whether a
/// CODE/VARS mismatch is refused (opt-in) or only warned about, as QEMU boots any pair.
/// </summary>
public sealed record QemuBehaviour(bool NoShutdown, bool RefuseMismatch);

/// <summary>The options of <c>boot</c> (the command line's are read by the CLI's BootOptionsParser).</summary>
public sealed record BootOptions
{
    /// <summary>The option name of a typed console step (<c>--serial-input TEXT|@FILE|-</c>; <c>-</c> types live from stdin).</summary>
    public const string SerialInputOption = "--serial-input";
    /// <summary>The option name of a console step that waits until the console shows its text.</summary>
    public const string ExpectOption = "--expect";
    /// <summary>The option name of a console step that types its text once every earlier expectation has matched.</summary>
    public const string SendOption = "--send";

    /// <summary><see cref="Pace"/>: guest waits are held to the wall clock.</summary>
    public const string PaceRealTime = "realtime";
    /// <summary><see cref="Pace"/>: guest waits run ahead in virtual time.</summary>
    public const string PaceOff = "off";
    /// <summary><see cref="Pace"/>: real time when a person types live at a terminal, otherwise off.</summary>
    public const string PaceAuto = "auto";

    /// <summary>The default instruction budget of a run.</summary>
    public const long DefaultMaxInstructions = 5_000_000_000;
    /// <summary>The default number of instructions <see cref="Trace"/> records.</summary>
    public const long DefaultTraceLimit = 1_000_000;

    /// <summary>The code image, mapped as flash unit 0 (read-only unless <see cref="CodeWritable"/>).</summary>
    public string? Code { get; init; }

    /// <summary>The varstore file, mapped as flash unit 1 and written as the guest writes its variables (unless <see cref="Snapshot"/> or <see cref="VarsReadOnly"/>).</summary>
    public string? Vars { get; init; }

    /// <summary>A unified image (code and varstore in one file), mapped writable as unit 0; not with <see cref="Code"/>/<see cref="Vars"/>.</summary>
    public string? Firmware { get; init; }

    /// <summary>The VM whose varstore copy a boot without firmware options uses (<see cref="DefaultFirmware"/>).</summary>
    public string? Vm { get; init; }

    /// <summary>What <see cref="DefaultFirmware"/> chose when no firmware was named; null when the user named it.</summary>
    public FirmwareChoiceInfo? FirmwareChoice { get; init; }

    /// <summary>Where a gdb server listens (<c>--gdb</c>, QEMU's -gdb/-s), or null for none.</summary>
    public System.Net.IPEndPoint? Gdb { get; init; }

    /// <summary>Stop at the reset vector until gdb continues (<c>--gdb-wait</c>, QEMU's -S).</summary>
    public bool GdbWait { get; init; }

    /// <summary>An edk2 build's output folder whose .debug/.pdb files gdb loads as modules start (<c>--symbols</c>), or null.</summary>
    public string? Symbols { get; init; }

    /// <summary>The board: QEMU's <c>pc</c> (default) or <c>q35</c> (<c>--machine</c>).</summary>
    public Core.Machine.PcChipset Chipset { get; init; } = Core.Machine.PcChipset.I440fx;

    /// <summary>System Management Mode (<c>--machine ...,smm=on|off</c>; on by default, as QEMU under TCG).</summary>
    public bool Smm { get; init; } = true;

    /// <summary>The flash accepts writes only from SMM (<c>--secure-flash</c>, QEMU's cfi.pflash01 secure=on).</summary>
    public bool SecureFlash { get; init; }

    /// <summary>S3 is not offered to the guest (<c>--disable-s3</c>, QEMU's ICH9-LPC/PIIX4_PM disable_s3=1).</summary>
    public bool DisableS3 { get; init; }

    /// <summary>The CPU model (<c>--cpu qemu64|qemu32</c>).</summary>
    public Core.Cpu.CpuModel Cpu { get; init; } = Core.Cpu.CpuModel.Qemu64;

    /// <summary>SMM uses qemu-system-i386's 32-bit state-save map (<c>--cpu qemu32</c>, the qemu-system-i386 drop-in).</summary>
    public bool SmmSaveMap32 { get; init; }

    /// <summary>Guest RAM in bytes.</summary>
    public ulong Memory { get; init; } = Core.Machine.MachineOptions.DefaultRamSize;

    /// <summary>Whether --memory was given (a restore refuses a size other than the state's).</summary>
    public bool MemoryGiven { get; init; }

    /// <summary>Where to write the machine's state when the run stops (<see cref="StateFiles"/>).</summary>
    public string? SaveState { get; init; }

    /// <summary>States to write on the way, each when its milestone is reached (the run goes on): milestone to file.</summary>
    public IReadOnlyDictionary<string, string> SaveStateAt { get; init; } = new Dictionary<string, string>();

    /// <summary>The state file to continue from.</summary>
    public string? Restore { get; init; }

    /// <summary>The state file read (set by <see cref="StateFiles.ForRestore"/>).</summary>
    public Core.Machine.MachineStateFile.Loaded? Restored { get; init; }

    /// <summary>The milestone that ends the run (one of <see cref="MilestoneTracker.KnownNames"/>), or null to run until the guest stops or the budget is spent.</summary>
    public string? Until { get; init; }

    /// <summary>The instruction budget: the run stops with <c>limit</c> when it is spent.</summary>
    public long MaxInstructions { get; init; } = DefaultMaxInstructions;

    /// <summary>Where <c>emu boot</c> writes the JSON report (the CLI writes it; a <see cref="BootSession"/> returns the report object).</summary>
    public string? Report { get; init; }

    /// <summary>A file for the instruction trace (one line per instruction, comparable with QEMU's), or null.</summary>
    public string? Trace { get; init; }

    /// <summary>A file for the log of completed flash programs and erases, or null.</summary>
    public string? FlashLog { get; init; }

    /// <summary>How many instructions <see cref="Trace"/> records.</summary>
    public long TraceLimit { get; init; } = DefaultTraceLimit;

    /// <summary>Unassigned memory reads 0, as on QEMU (default: all-ones, as on hardware).</summary>
    public bool UnassignedZero { get; init; }

    /// <summary>Never write the varstore (QEMU's snapshot=on): guest writes last for the run only.</summary>
    public bool Snapshot { get; init; }

    /// <summary>Progress is not logged: warnings and errors only.</summary>
    public bool Quiet { get; init; }

    /// <summary>Boot a CODE/VARS pair that fails the compatibility check anyway; the run then uses snapshot mode.</summary>
    public bool Force { get; init; }

    /// <summary>Print the module timeline (first instruction, instructions inside) on stderr after the run.</summary>
    public bool Timeline { get; init; }

    /// <summary><c>--serial-input</c>, <c>--expect</c> and <c>--send</c> in order (see <see cref="Serial.SerialScript"/>).</summary>
    public IReadOnlyList<(string Name, string Value)> SerialSteps { get; init; } = [];

    /// <summary>A file that also gets the console output, or null.</summary>
    public string? SerialLog { get; init; }

    /// <summary>File for the debug console port 0x402 (OVMF DEBUG builds log there).</summary>
    public string? DebugCon { get; init; }

    /// <summary><c>realtime</c>, <c>off</c> or <c>auto</c> (real time when a person types at a terminal).</summary>
    public string Pace { get; init; } = PaceAuto;

    /// <summary>What the RTC shows at virtual time 0.</summary>
    public DateTime? RtcStart { get; init; }

    /// <summary>Every busy-wait costs its full instructions (no skipping): for measuring, or doubt.</summary>
    public bool ExactWaits { get; init; }

    /// <summary>Run every block in the interpreter: no block compilation (for comparisons and debugging).</summary>
    public bool Interpret { get; init; }

    /// <summary>No live status line on the messages writer.</summary>
    public bool NoStatus { get; init; }

    /// <summary>Stop a firmware that spins in a dead loop with stop reason <c>hang</c> (<see cref="HangDetector"/>); off with --no-hang-detect.</summary>
    public bool HangDetection { get; init; } = true;

    // Set by the QEMU front end (Qemu/QemuBootOptions.cs); boot's own options leave the defaults.

    /// <summary>The ISA serial ports and their backends; boot has COM1 on the console.</summary>
    public IReadOnlyList<SerialPortSpec> SerialPorts { get; init; } = [new(0, SerialBackend.Console)];

    /// <summary>The debug console's backend when it is not <see cref="DebugCon"/>'s file (QEMU's -debugcon).</summary>
    public SerialBackend? DebugConBackend { get; init; }

    /// <summary>SMBIOS type 11 OEM strings in order (QEMU's <c>-smbios type=11,value=…,path=…</c>); none: no type 11 structure.</summary>
    public IReadOnlyList<SmbiosOemString> OemStrings { get; init; } = [];

    /// <summary>QEMU's isa-debug-exit test device and its ports (<c>--debug-exit</c>, <c>-device isa-debug-exit</c>), or null.</summary>
    public DebugExitPorts? DebugExit { get; init; }

    /// <summary>The drives (--disk, --cdrom, --fat; the drop-in's -drive if=ide|virtio, -hda, -cdrom): IDE ones at their index, virtio ones in order.</summary>
    public IReadOnlyList<BootDrive> Drives { get; init; } = [];

    /// <summary>PCI slots left empty for QEMU's default VGA and NIC, which emu does not model (the drop-in without -nodefaults), so virtio disks land in QEMU's slots.</summary>
    public int AbsentDefaultPciSlots { get; init; }

    /// <summary>The drop-in's <c>-boot</c>: CMOS boot order and the firmware's boot menu items.</summary>
    public BootDeviceOptions BootDevices { get; init; } = new();

    /// <summary>The debug console's I/O port (0x402 for OVMF; QEMU's isa-debugcon default is 0xE9).</summary>
    public ushort DebugConPort { get; init; } = Core.Devices.Misc.DebugCon.Port;

    /// <summary>QEMU's -bios: the image mapped as ROM (no flash, so OVMF keeps variables in memory).</summary>
    public string? Bios { get; init; }

    /// <summary>Unit 0 (<see cref="Code"/>) writable and persisted like a varstore (QEMU's readonly=off).</summary>
    public bool CodeWritable { get; init; }

    /// <summary>Unit 1 (<see cref="Vars"/>) read-only: the chip rejects writes, the file is never written (readonly=on).</summary>
    public bool VarsReadOnly { get; init; }

    /// <summary>Live console keys: Ctrl-A x quits (QEMU's mux), and Ctrl-C stops the machine (stdio's signal=on) instead of reaching the guest.</summary>
    public (bool Mux, bool Signals) ConsoleKeys { get; init; } = (true, false);

    /// <summary>QEMU's exit statuses and varstore policy instead of boot's (null for boot).</summary>
    public QemuBehaviour? Qemu { get; init; }

    /// <summary>A guest reset ends the run (QEMU's -no-reboot) instead of restarting the machine.</summary>
    public bool NoReboot { get; init; }

    /// <summary>The machine without its HPET (QEMU's -no-hpet; set by the QEMU drop-in only).</summary>
    public bool NoHpet { get; init; }

    /// <summary>Machine resets allowed before the run stops as a reset loop.</summary>
    public int MaxResets { get; init; } = Core.Machine.PcMachine.DefaultMaxResets;

    /// <summary>Debug-level logging: modules entered, blocks compiled, the hang detector's state.</summary>
    public bool Verbose { get; init; }

    /// <summary>No output file may overwrite an input, and each must have a directory to go in.</summary>
    public void CheckOutputs()
    {
        var outputs = new[] { ("--report", Report), ("--trace", Trace), ("--flash-log", FlashLog), ("--serial-log", SerialLog), ("--debugcon", DebugCon), ("--save-state", SaveState) }
            .Concat(SaveStateAt.Values.Select(f => ("--save-state-at", (string?)f)));
        foreach (var (option, output) in outputs)
        {
            if (output == null)
            {
                continue;
            }

            foreach (var input in new[] { Code, Vars, Firmware, Restore })
            {
                if (input != null && OutputPaths.SameFile(input, output))
                {
                    throw new UsageException($"{option} '{output}' would overwrite a firmware input file");
                }
            }

            OutputPaths.Check(option, output);
        }
    }
}

/// <summary>One SMBIOS OEM string: given as text (sent as its UTF-8 bytes), or as the contents of a file.</summary>
public sealed record SmbiosOemString(string? Text, string? Path)
{
    /// <summary>A string given on the command line (QEMU's <c>value=</c>).</summary>
    public static SmbiosOemString FromText(string text) => new(text, null);

    /// <summary>A string read from a file when the machine is built (QEMU's <c>path=</c>).</summary>
    public static SmbiosOemString FromFile(string path) => new(null, path);

    /// <summary>The bytes the SMBIOS string holds; a file is checked and read as <see cref="Inputs.InputRole.OemString"/>.</summary>
    public byte[] Bytes() => Path != null ? Inputs.InputFile.Read(Inputs.InputRole.OemString, Path) : System.Text.Encoding.UTF8.GetBytes(Text ?? string.Empty);
}
