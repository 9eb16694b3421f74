using System.CommandLine;
using Emulator.Cli.Boot;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Qemu;
using static Emulator.Cli.CommandLine.CommandOptions;

namespace Emulator.Cli.CommandLine;

/// <summary><c>emu boot</c>'s options (System.CommandLine) and their reading into <see cref="BootOptions"/>, validated: numbers are numbers, options do not conflict.</summary>
public static class BootOptionsParser
{
    public const string OemStringOption = "--oem-string";

    public const string Description = "run firmware from the reset vector (no firmware options: QEMU's firmware descriptors pick it, see 'emu firmware list')";

    /// <summary>Boot's options, new instances each call (a command owns its options); compare and matrix forward some of them.</summary>
    public static IEnumerable<Option> CreateOptions() =>
    [
        Value("--code", "FILE", "OVMF_CODE.fd: the code flash chip (pflash0, read-only)"),
        Value("--vars", "FILE", "OVMF_VARS.fd: the varstore chip (pflash1), written back unless --snapshot"),
        Value("--firmware", "FILE", "a unified image (OVMF.fd): code and varstore in one chip"),
        Value("--vm", "NAME", "without firmware options: the VM whose own varstore copy is used (default 'default')"),
        Size("--memory", "SIZE", "guest RAM, e.g. 256M or 2G (QEMU's -m; default 256M)"),
        Value("--machine", "TYPE[,smm=on|off]", "the board, QEMU's -machine: pc (default, i440FX) or q35, with QEMU's properties (smm=on|off|auto, accel=tcg, hpet=on|off)"),
        Value("--cpu", "MODEL", "qemu64 (default, qemu-system-x86_64's CPU) or qemu32 (qemu-system-i386's: no long mode, 32-bit SMM state map)", "qemu64", "qemu32"),
        Flag("--secure-flash", "flash writes only from SMM (QEMU's -global driver=cfi.pflash01,property=secure,value=on)"),
        Flag("--disable-s3", "offer no S3 sleep state (QEMU's -global ICH9-LPC.disable_s3=1 / PIIX4_PM.disable_s3=1)"),
        Value("--save-state", "FILE", "when the run stops, write the whole machine's state there (continue with --restore)"),
        Value("--save-state-at", "MILESTONE=FILE[,...]", "on the way, write the state at each milestone (the run goes on)"),
        Value("--restore", "FILE", "continue from a state written by --save-state"),
        Value("--until", "MILESTONE", "stop at a milestone: " + string.Join("|", MilestoneTracker.KnownNames), [.. MilestoneTracker.KnownNames]),
        Count("--max-instructions", "N", $"stop after N instructions (default {BootOptions.DefaultMaxInstructions:N0})"),
        Value("--report", "FILE.json", "write the run report (JSON) there"),
        Value("--trace", "FILE", "write an instruction trace"),
        Count("--trace-limit", "N", $"instructions in the trace (default {BootOptions.DefaultTraceLimit:N0}; needs --trace)"),
        Value("--flash-log", "FILE", "log every flash command the guest sends"),
        Value("--serial-log", "FILE", "copy the COM1 console bytes to a file"),
        Value("--debugcon", "FILE", "the debug console (port 0x402, where OVMF DEBUG builds log)"),
        Repeatable(OemStringOption, "TEXT|@FILE", "an SMBIOS type 11 OEM string (QEMU's -smbios type=11,value=TEXT / path=FILE), in order; repeatable"),
        Repeatable(BootDriveOptions.Disk, "FILE[,snapshot][,readonly][,if=virtio]", "a raw or qcow2 disk image (qcow2 known by its magic, read only: it needs ,snapshot) on the next free IDE position (QEMU's -drive file=FILE; ,snapshot keeps writes in memory); with ,if=virtio a virtio-blk-pci disk in the first free PCI slot instead, which may be ,readonly; repeatable"),
        Repeatable(BootDriveOptions.CdRom, "FILE", "a CD-ROM image (ISO, raw or qcow2) at IDE index 2, secondary master (QEMU's -cdrom)"),
        Repeatable(BootDriveOptions.Fat, "DIR[:rw][,if=virtio]", "a folder as a FAT16 disk on the next free IDE position (QEMU's -drive file=fat:[rw:]DIR,format=raw,media=disk); with :rw the guest's changes are committed into DIR when the run ends; with ,if=virtio on a virtio-blk-pci disk (read-only without :rw)"),
        Value("--debug-exit", "PORT[,SIZE]", "QEMU's isa-debug-exit at PORT (SIZE ports, default 2; edk2 CI: 0xf4,4): a guest write of V there ends the run with exit status (V << 1) | 1"),
        Value("--pace", "MODE", "auto|realtime|off: whether guest waits take wall time (auto: real time when a person types at a terminal)", BootOptions.PaceAuto, BootOptions.PaceRealTime, BootOptions.PaceOff),
        Value("--rtc-start", "DATE", "what the RTC shows at virtual time 0, e.g. 2026-01-01T00:00:00Z"),
        Count("--max-resets", "N", $"machine resets before the run stops as a reset loop (default {Core.Machine.PcMachine.DefaultMaxResets})"),
        Repeatable(BootOptions.SerialInputOption, "TEXT|@FILE|-", "type into COM1 as the guest reads (- = live stdin); in order with --expect/--send"),
        Repeatable(BootOptions.ExpectOption, "TEXT", "wait for console text (in order with --send)"),
        Repeatable(BootOptions.SendOption, "TEXT|@FILE", "then type this (escapes such as \\r, \\e, \\x1b)"),
        Flag("--unassigned-zero", "read 0 from unassigned addresses, like QEMU (default: all ones)"),
        Flag("--snapshot", "never write the varstore or the disk images (QEMU's -snapshot)"),
        Flag("--quiet", "warnings and errors only on stderr"),
        Flag("--verbose", "debug messages on stderr"),
        Flag("--exact-waits", "every busy-wait costs its full instructions (no skipping)"),
        Flag("--no-status", "no status line on the terminal"),
        Flag("--no-reboot", "a guest reset ends the run"),
        Flag("--force", "boot a CODE/VARS pair that does not match (in snapshot mode)"),
        Flag("--timeline", "after the run: every module started, where, when, instructions inside"),
        Flag("--interpret", "no block compilation: every block interpreted"),
        Flag("--no-hang-detect", "spin on in a dead loop instead of stopping with 'hang'"),
        Value("--gdb", "tcp::PORT|tcp:HOST:PORT", "serve gdb's remote protocol there (loopback unless HOST is given; QEMU's -gdb); attach with 'target remote :PORT'"),
        Flag("--gdb-wait", "with --gdb: stop at the reset vector until gdb continues (QEMU's -S)"),
        Value("--symbols", "DIR", "with --gdb: an edk2 build's output folder; gdb loads each module's .debug as it starts, so 'break DxeMain' resolves then"),
    ];

    public static Command CreateCommand()
    {
        var command = new Command("boot", Description);
        foreach (var option in CreateOptions())
        {
            command.Add(option);
        }

        return command;
    }

    /// <summary>A boot command line (the words after <c>boot</c>) to options; a <see cref="UsageException"/> for bad usage.</summary>
    public static BootOptions Parse(IEnumerable<string> args) => Read(EmuCommandLine.ParseOne(CreateCommand(), args));

    /// <summary>The options the parse holds, checked for what goes with what.</summary>
    public static BootOptions Read(ParsedArguments a)
    {
        if (a.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'");
        }

        var machine = a.Get("--machine") is { } m ? QemuMachineType.Parse("--machine", m) : new QemuMachine(Core.Machine.PcChipset.I440fx, true, null);
        var cpu = a.Get("--cpu") is { } c ? QemuMachineType.ReadCpu("--cpu " + c, c) : Core.Cpu.CpuModel.Qemu64;
        // Most boots give no repeatable option: then the LINQ over the (name, value) tuples below,
        // JIT-compiled framework code at every start, is not run at all.
        var repeated = a.GetAll();
        bool any = repeated.Count > 0;
        var o = new BootOptions
        {
            Chipset = machine.Chipset,
            Smm = machine.Smm,
            NoHpet = machine.Hpet == false,
            Cpu = cpu,
            SmmSaveMap32 = !cpu.LongMode,
            SecureFlash = a.Has("--secure-flash"),
            DisableS3 = a.Has("--disable-s3"),
            Code = a.Get("--code"),
            Vars = a.Get("--vars"),
            Firmware = a.Get("--firmware"),
            Vm = a.Get("--vm"),
            Memory = a.GetSize("--memory") ?? Core.Machine.MachineOptions.DefaultRamSize,
            MemoryGiven = a.Has("--memory"),
            SaveState = a.Get("--save-state"),
            SaveStateAt = a.Get("--save-state-at") is { } at ? ParseSaveStateAt(at) : new Dictionary<string, string>(),
            Restore = a.Get("--restore"),
            Until = a.Get("--until"),
            MaxInstructions = a.GetLong("--max-instructions") ?? BootOptions.DefaultMaxInstructions,
            Report = a.Get("--report"),
            Trace = a.Get("--trace"),
            FlashLog = a.Get("--flash-log"),
            TraceLimit = a.GetLong("--trace-limit") ?? BootOptions.DefaultTraceLimit,
            UnassignedZero = a.Has("--unassigned-zero"),
            Snapshot = a.Has("--snapshot"),
            Quiet = a.Has("--quiet"),
            Force = a.Has("--force"),
            Timeline = a.Has("--timeline"),
            Verbose = a.Has("--verbose"),
            SerialSteps = !any ? [] : [.. repeated.Where(x => x.Name is BootOptions.SerialInputOption or BootOptions.ExpectOption or BootOptions.SendOption)],
            Drives = !any ? [] : BootDriveOptions.Read(repeated, a.Has("--snapshot")),
            OemStrings = !any ? [] : [.. repeated.Where(x => x.Name == OemStringOption).Select(x => x.Value.StartsWith('@') ? SmbiosOemString.FromFile(x.Value[1..]) : SmbiosOemString.FromText(x.Value))],
            SerialLog = a.Get("--serial-log"),
            DebugCon = a.Get("--debugcon"),
            DebugExit = a.Get("--debug-exit") is { } exit ? ParseDebugExit(exit) : null,
            Pace = a.Get("--pace") ?? BootOptions.PaceAuto,
            RtcStart = a.Get("--rtc-start") is { } rtc ? ParseDate(rtc) : null,
            ExactWaits = a.Has("--exact-waits"),
            Interpret = a.Has("--interpret"),
            NoStatus = a.Has("--no-status"),
            HangDetection = !a.Has("--no-hang-detect") && a.Get("--gdb") == null,
            Gdb = a.Get("--gdb") is { } gdb ? Hosting.Gdb.GdbEndpoint.Parse("--gdb " + gdb, gdb) : null,
            GdbWait = a.Has("--gdb-wait"),
            Symbols = a.Get("--symbols"),
            NoReboot = a.Has("--no-reboot"),
            MaxResets = a.GetLong("--max-resets") is { } r
                ? (r is >= 0 and <= int.MaxValue ? (int)r : throw new UsageException($"--max-resets must be between 0 and {int.MaxValue}, not {r}"))
                : Core.Machine.PcMachine.DefaultMaxResets,
        };
        Validate(o, a);
        return o;
    }

    /// <summary>"PORT[,SIZE]", numbers as QEMU's -device isa-debug-exit,iobase=…,iosize=… reads them.</summary>
    private static Core.Machine.DebugExitPorts ParseDebugExit(string value)
    {
        string[] parts = value.Split(',');
        return parts.Length <= 2
            ? QemuDevices.DebugExitPorts("--debug-exit " + value, parts[0], parts.Length == 2 ? parts[1] : null)
            : throw new UsageException($"--debug-exit takes PORT[,SIZE], not '{value}'");
    }

    /// <summary>"NAME=FILE[,NAME=FILE...]": a known milestone per file.</summary>
    private static Dictionary<string, string> ParseSaveStateAt(string value)
    {
        var result = new Dictionary<string, string>();
        foreach (string item in value.Split(','))
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            string name = eq > 0 ? item[..eq] : string.Empty;
            if (eq <= 0 || eq == item.Length - 1 || !MilestoneTracker.KnownNames.Contains(name) || !result.TryAdd(name, item[(eq + 1)..]))
            {
                throw new UsageException($"--save-state-at takes MILESTONE=FILE[,MILESTONE=FILE...] with known milestones, each once ({string.Join(", ", MilestoneTracker.KnownNames)}), not '{item}'");
            }
        }

        return result;
    }

    private static DateTime ParseDate(string value) =>
        DateTime.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : throw new UsageException($"--rtc-start needs a date such as 2026-01-01T00:00:00Z, not '{value}'");

    private static void Validate(BootOptions o, ParsedArguments a)
    {
        if (o.GdbWait && o.Gdb == null)
        {
            throw new UsageException("--gdb-wait needs --gdb (where gdb attaches)");
        }

        if (o.Symbols != null && o.Gdb == null)
        {
            throw new UsageException("--symbols needs --gdb (the symbols are gdb's)");
        }

        if (o.Firmware != null && (o.Code != null || o.Vars != null))
        {
            throw new UsageException("use either --firmware (a unified image) or --code/--vars, not both");
        }

        if (o.Vm != null)
        {
            // --vm names the copy of the firmware emu finds itself (DefaultFirmware); named files have their own varstore.
            string? named = o.Vars != null ? "--vars" : o.Code != null ? "--code" : o.Firmware != null ? "--firmware" : null;
            if (named != null)
            {
                throw new UsageException($"--vm picks the varstore of the firmware emu finds itself: not with {named} (give the varstore as --vars FILE)");
            }

            DefaultFirmware.CheckVmName(o.Vm);
        }

        if (o.Firmware == null && o.Code == null && o.Vars != null && o.Restore == null)
        {
            throw new UsageException("--vars needs --code (pflash1 requires pflash0)");
        }

        if (o.Code != null && o.Vars != null && OutputPaths.SameFile(o.Code, o.Vars))
        {
            throw new UsageException("--code and --vars are the same file: the code chip is read-only, the varstore is written");
        }

        if (o.Until != null && !MilestoneTracker.KnownNames.Contains(o.Until))
        {
            throw new UsageException($"unknown milestone '{o.Until}' (known: {string.Join(", ", MilestoneTracker.KnownNames)})");
        }

        if (a.Has("--trace-limit") && o.Trace == null)
        {
            throw new UsageException("--trace-limit needs --trace FILE");
        }

        if (o.Pace is not (BootOptions.PaceAuto or BootOptions.PaceRealTime or BootOptions.PaceOff))
        {
            throw new UsageException($"--pace must be {BootOptions.PaceAuto}, {BootOptions.PaceRealTime} or {BootOptions.PaceOff}, not '{o.Pace}'");
        }

        foreach (var (name, value) in o.SerialSteps)
        {
            if (value.Length == 0)
            {
                throw new UsageException($"{name} needs text");
            }

            if (value == "-" && name != BootOptions.SerialInputOption)
            {
                throw new UsageException($"'-' (live stdin) is only for {BootOptions.SerialInputOption}");
            }
        }

        o.CheckOutputs();
        if (a.Has("--max-instructions") && o.MaxInstructions == 0)
        {
            throw new UsageException("--max-instructions must be at least 1");
        }
    }
}
