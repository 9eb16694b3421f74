using Emulator.Hosting.Boot;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Qemu;

/// <summary>
/// Reads a <c>qemu-system-x86_64</c> command line — the subset firmware test harnesses use —
/// with QEMU's spelling and meaning (qemu-options.hx, softmmu/vl.c), into a <see cref="QemuConfig"/>.
/// Options are read in order; <c>--opt</c> is <c>-opt</c> as in QEMU's lookup_opt. Every error is
/// a <see cref="UsageException"/> whose message reads like QEMU's (<c>-opt arg: reason</c>); an
/// option QEMU knows but emu does not model is refused by name, never ignored, because it would
/// change what the guest sees. Device rules are <see cref="QemuDevices"/>'.
/// </summary>
public sealed class QemuCommandLine
{
    /// <summary>QEMU's isa-debugcon default iobase (hw/char/debugcon.c).</summary>
    public const ushort DebugConDefaultPort = 0xE9;

    /// <summary>Options emu understands, and whether each takes an argument.</summary>
    private static readonly Dictionary<string, bool> Supported = new(StringComparer.Ordinal)
    {
        ["machine"] = true, ["M"] = true, ["accel"] = true, ["m"] = true, ["smp"] = true, ["cpu"] = true,
        ["drive"] = true, ["pflash"] = true, ["global"] = true, ["display"] = true, ["vga"] = true,
        ["monitor"] = true, ["net"] = true, ["nic"] = true, ["serial"] = true, ["chardev"] = true, ["device"] = true,
        ["debugcon"] = true, ["smbios"] = true, ["hda"] = true, ["hdb"] = true, ["hdc"] = true, ["hdd"] = true, ["cdrom"] = true, ["boot"] = true, ["parallel"] = true, ["name"] = true, ["icount"] = true, ["bios"] = true,
        ["nodefaults"] = false, ["no-user-config"] = false, ["nographic"] = false, ["no-reboot"] = false,
        ["no-shutdown"] = false, ["snapshot"] = false, ["no-hpet"] = false, ["version"] = false, ["h"] = false, ["help"] = false,
        ["gdb"] = true, ["s"] = false, ["S"] = false,
    };

    /// <summary>QEMU options emu refuses by name (they would change the machine or need what emu lacks).</summary>
    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "enable-kvm", "kernel", "initrd", "append", "dtb", "fda", "fdb",
        "usb", "usbdevice", "netdev", "blockdev", "object", "fw_cfg", "rtc",
        "d", "D", "qmp", "qmp-pretty", "mon", "daemonize", "pidfile", "vnc", "spice", "sdl", "curses", "full-screen",
        "k", "audiodev", "soundhw", "L", "readconfig", "writeconfig", "incoming", "loadvm", "sandbox", "runas",
        "chroot", "numa", "mem-path", "mem-prealloc", "overcommit", "no-acpi", "acpitable", "action", "watchdog",
        "watchdog-action", "semihosting", "trace", "plugin", "uuid", "virtfs", "iscsi", "add-fd", "msg", "qtest",
        "preconfig", "only-migratable", "xen-domid", "old-param", "nouserconfig", "echr", "win2k-hack", "no-fd-bootchk",
        "tpmdev", "mtdblock", "sd", "option-rom", "prom-env", "g", "portrait", "rotate", "alt-grab", "ctrl-grab",
        "singlestep", "seed", "async-teardown",
    };

    private readonly List<(string Option, string Text)> _serials = [];
    private readonly List<(string Option, QemuKeyValues Values, string Text)> _devices = [];
    private readonly List<(string Option, QemuKeyValues Values, string Text)> _chardevs = [];
    private readonly List<(string Option, QemuKeyValues Values, string Text)> _drives = [];
    private readonly List<(string Option, string Text)> _globals = [];
    private (string Option, string Text)? _debugcon;
    private bool _nodefaults;
    private bool _nographic;
    private bool _monitorGiven;
    private bool _vgaNone;
    private bool _netNone;

    /// <summary>
    /// Reads a <c>qemu-system-x86_64</c> command line (<paramref name="i386"/>: <c>qemu-system-i386</c>'s,
    /// whose default CPU is qemu32); a one-line <see cref="UsageException"/> in QEMU's wording for what it cannot run.
    /// </summary>
    public static QemuConfig Parse(IReadOnlyList<string> args, bool i386 = false) => new QemuCommandLine().Read(args, i386);

    private QemuConfig Read(IReadOnlyList<string> args, bool i386)
    {
        var config = new QemuConfig { I386 = i386, Cpu = i386 ? Core.Cpu.CpuModel.Qemu32 : Core.Cpu.CpuModel.Qemu64 };
        for (int i = 0; i < args.Count; i++)
        {
            string raw = args[i];
            if (!raw.StartsWith('-') || raw.Length < 2)
            {
                // vl.c: a bare argument is the first hard disk image, drive_add(IF_DEFAULT, 0, file, HD_OPTS).
                AddDriveShorthand(string.Empty, raw, 0, "disk");
                continue;
            }

            string name = raw.StartsWith("--", StringComparison.Ordinal) ? raw[2..] : raw[1..];
            string option = "-" + name;
            if (!Supported.TryGetValue(name, out bool takesArgument))
            {
                throw new UsageException(Unsupported.Contains(name) ? $"{option}: not supported by emu" : $"{option}: invalid option");
            }

            string? arg = null;
            if (takesArgument)
            {
                if (i + 1 >= args.Count)
                {
                    throw new UsageException($"{option}: requires an argument");
                }

                arg = args[++i];
            }

            config = Apply(config, option, name, arg);
        }

        if (config.GdbWait && config.Gdb == null)
        {
            // QEMU would wait for its monitor's "cont"; emu has no monitor, only gdb can resume.
            throw new UsageException("-S: emu has no monitor to continue from: use -S with -s or -gdb");
        }

        return QemuDevices.Resolve(config, this);
    }

    private QemuConfig Apply(QemuConfig config, string option, string name, string? arg)
    {
        string where = $"{option} {arg}";
        switch (name)
        {
            case "machine" or "M":
                return ReadMachine(config, where, arg!);
            case "accel":
                ReadAccel(where, QemuKeyValues.Parse(option, arg!, "accel"));
                return config;
            case "m":
                return config with { Memory = ReadMemory(where, option, arg!) };
            case "smp":
                ReadSmp(where, option, arg!);
                return config;
            case "cpu":
                var cpu = QemuMachineType.ReadCpu(where, arg!);
                if (config.I386 && cpu.LongMode)
                {
                    // qemu-system-i386 has no long mode at all; emu's qemu64 table would offer it.
                    throw new UsageException($"{where}: emu's qemu-system-i386 models only the qemu32 CPU");
                }

                return config with { Cpu = cpu };
            case "drive":
                _drives.Add((option, QemuKeyValues.Parse(option, arg!, null), arg!));
                return config;
            case "pflash":
                // vl.c: drive_add(IF_PFLASH, -1, optarg, PFLASH_OPTS) — the next free unit, writable.
                _drives.Add((option, QemuKeyValues.Parse(option, "if=pflash,format=raw,file=" + arg!.Replace(",", ",,", StringComparison.Ordinal), null), arg));
                return config;
            case "hda" or "hdb" or "hdc" or "hdd":
                AddDriveShorthand(option, arg!, name[2] - 'a', "disk");
                return config;
            case "cdrom":
                AddDriveShorthand(option, arg!, 2, "cdrom");
                return config;
            case "boot":
                return config with { Boot = QemuBootOption.Read(option, arg!) };
            case "bios":
                return config with { Bios = arg };
            case "global":
                _globals.Add((option, arg!));
                return config;
            case "display":
                var display = QemuKeyValues.Parse(option, arg!, "type");
                if (display.Get("type") != "none")
                {
                    throw new UsageException($"{where}: emu is headless: only -display none");
                }

                display.RejectUnknown(option, arg!);
                return config;
            case "vga":
                _vgaNone = arg == "none" ? true : throw new UsageException($"{where}: emu has no display adapter: only -vga none");
                return config;
            case "monitor":
                _monitorGiven = arg is "none" or "null" ? true : throw new UsageException($"{where}: emu has no monitor: only -monitor none");
                return config;
            case "net" or "nic":
                _netNone = arg == "none" ? true : throw new UsageException($"{where}: emu has no network card: only {option} none");
                return config;
            case "parallel":
                return arg == "none" ? config : throw new UsageException($"{where}: emu has no parallel port: only -parallel none");
            case "serial":
                _serials.Add((option, arg!));
                return config;
            case "chardev":
                _chardevs.Add((option, QemuKeyValues.Parse(option, arg!, "backend"), arg!));
                return config;
            case "device":
                _devices.Add((option, QemuKeyValues.Parse(option, arg!, "driver"), arg!));
                return config;
            case "debugcon":
                _debugcon = (option, arg!);
                return config;
            case "smbios":
                return config with { OemStrings = [.. config.OemStrings, .. ReadSmbios(where, option, arg!)] };
            case "icount":
                return config with { NoSleep = ReadIcount(where, option, arg!) };
            case "name":
                return config;
            case "nodefaults":
                _nodefaults = true;
                return config;
            case "nographic":
                _nographic = true;
                return config;
            case "no-reboot":
                return config with { NoReboot = true };
            case "no-shutdown":
                return config with { NoShutdown = true };
            case "gdb":
                return config with { Gdb = Gdb.GdbEndpoint.Parse(where, arg!) };
            case "s":
                return config with { Gdb = Gdb.GdbEndpoint.Parse(option, Gdb.GdbEndpoint.QemuDefault) };
            case "S":
                return config with { GdbWait = true };
            case "snapshot":
                return config with { Snapshot = true };
            case "no-user-config":
                // emu reads no configuration files.
                return config;
            case "no-hpet":
                return config with { NoHpet = true };
            case "version":
                return config with { InfoRequest = "version" };
            default:
                return config with { InfoRequest = "help" };
        }
    }

    /// <summary>vl.c drive_add for -hda…-hdd, -cdrom and a bare image: an if=ide drive at a fixed index (HD_OPTS media=disk, CDROM_OPTS media=cdrom).</summary>
    private void AddDriveShorthand(string option, string file, int index, string media) =>
        _drives.Add((option, QemuKeyValues.Parse(option, $"media={media},index={index},file={file.Replace(",", ",,", StringComparison.Ordinal)}", null), file));

    /// <summary>
    /// <c>-smbios type=11,value=TEXT[,value=…][,path=FILE]</c>: OEM strings in order, values and
    /// files interleaved as given (hw/smbios/smbios.c smbios_entry_add, save_opt_list). Other
    /// types and <c>file=</c> (a binary table) are refused by name.
    /// </summary>
    private static IEnumerable<SmbiosOemString> ReadSmbios(string where, string option, string arg)
    {
        var kv = QemuKeyValues.Parse(option, arg, null);
        string? type = kv.Get("type");
        if (kv.Has("file") || type != "11")
        {
            throw new UsageException($"{where}: emu supports -smbios type=11 (OEM strings) only");
        }

        var strings = kv.All("value", "path").Select(p => p.Key == "path" ? SmbiosOemString.FromFile(p.Value) : SmbiosOemString.FromText(p.Value)).ToList();
        kv.RejectUnknown(option, arg);
        return strings;
    }

    private static QemuConfig ReadMachine(QemuConfig config, string where, string arg)
    {
        var machine = QemuMachineType.Read(where, QemuKeyValues.Parse("-machine", arg, "type"));
        return config with { Chipset = machine.Chipset, Smm = machine.Smm, NoHpet = machine.Hpet is bool hpet ? !hpet : config.NoHpet };
    }

    /// <summary>An unknown machine or device property: QEMU's wording ("Property 'type.key' not found").</summary>
    internal static void RejectProperties(string where, QemuKeyValues kv, string type)
    {
        if (kv.FirstUnknownKey() is { } key)
        {
            throw new UsageException($"{where}: Property '{type}.{key}' not found");
        }
    }

    private static void ReadAccel(string where, QemuKeyValues kv)
    {
        if (kv.Get("accel") != "tcg")
        {
            throw new UsageException($"{where}: emu is an interpreter: only -accel tcg");
        }

        if (kv.Get("thread") is { } thread && thread is not ("single" or "multi"))
        {
            throw new UsageException($"{where}: Parameter 'thread' expects 'single' or 'multi'");
        }

        if (kv.FirstUnknownKey() is { } key)
        {
            throw new UsageException($"{where}: Invalid parameter '{key}'");
        }
    }

    private static ulong ReadMemory(string where, string option, string arg)
    {
        var kv = QemuKeyValues.Parse(option, arg, "size");
        string? size = kv.Get("size");
        kv.RejectUnknown(option, arg);
        if (size == null)
        {
            return Core.Machine.MachineOptions.DefaultRamSize;
        }

        try
        {
            return SizeParser.ParseMemory(size);
        }
        catch (UsageException e)
        {
            throw new UsageException($"{where}: {e.Message}");
        }
    }

    private static void ReadSmp(string where, string option, string arg)
    {
        var kv = QemuKeyValues.Parse(option, arg, "cpus");
        foreach (var key in new[] { "cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus" })
        {
            if (kv.Get(key) is { } v && v != "1")
            {
                throw new UsageException($"{where}: emu models one CPU ({key}={v})");
            }
        }

        kv.RejectUnknown(option, arg);
    }

    /// <summary>
    /// <c>-icount shift=0[,sleep=on|off]</c>: emu's virtual clock is QEMU's shift 0 (one
    /// instruction per nanosecond); sleep=off lets guest waits run ahead of the wall clock.
    /// </summary>
    private static bool ReadIcount(string where, string option, string arg)
    {
        var kv = QemuKeyValues.Parse(option, arg, "shift");
        if (kv.Get("shift") is { } shift && shift != "0")
        {
            throw new UsageException($"{where}: emu's clock is one instruction per nanosecond: only shift=0");
        }

        bool sleep = kv.GetBool(where, "sleep", true);
        kv.RejectUnknown(option, arg);
        return !sleep;
    }

    internal bool NoDefaults => _nodefaults;

    internal bool NoGraphic => _nographic;

    internal bool MonitorGiven => _monitorGiven;

    internal bool VgaNone => _vgaNone;

    internal bool NetNone => _netNone;

    internal IReadOnlyList<(string Option, string Text)> Serials => _serials;

    internal IReadOnlyList<(string Option, QemuKeyValues Values, string Text)> Devices => _devices;

    internal IReadOnlyList<(string Option, QemuKeyValues Values, string Text)> Chardevs => _chardevs;

    internal IReadOnlyList<(string Option, QemuKeyValues Values, string Text)> Drives => _drives;

    internal IReadOnlyList<(string Option, string Text)> Globals => _globals;

    internal (string Option, string Text)? DebugConOption => _debugcon;
}
