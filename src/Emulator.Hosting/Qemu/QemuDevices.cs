using System.Globalization;
using Emulator.Core.Devices.Misc;
using Emulator.Core.Machine;
using Emulator.Hosting.Boot;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Qemu;

/// <summary>
/// QEMU's device rules for what <see cref="QemuCommandLine"/> collected (softmmu/vl.c,
/// hw/char/serial-isa.c, hw/i386/pc_sysfw.c):
/// - character backends: <c>-chardev</c> defines them by id, <c>-serial</c>/<c>-debugcon</c> name
///   one inline; stdio can back only one of them; a chardev backs at most one device;
/// - serial ports: each <c>-serial</c> other than <c>none</c> takes the next COM port, in order
///   (serial_hds; a fifth and later are created but never attached, as QEMU does), then each
///   <c>-device isa-serial</c> takes its <c>index</c> or the count of ports made before it;
/// - defaults: without <c>-nodefaults</c>, <c>-serial</c> or an isa-serial device, COM1 is the
///   default serial — <c>mon:stdio</c> under <c>-nographic</c> (stdio alone when a monitor is
///   given), otherwise a virtual console that nothing displays when headless;
///   <c>-nographic</c> also puts the default monitor on stdio;
/// - pflash: <c>unit=</c> or the next free unit; only units 0 and 1 exist on pc; with no pflash
///   drive, <c>-bios</c> is mapped as ROM (pc_system_firmware_init), and ignored otherwise.
/// </summary>
internal static class QemuDevices
{
    private const int PflashUnits = 2;

    public static QemuConfig Resolve(QemuConfig config, QemuCommandLine c)
    {
        if (config.InfoRequest != null)
        {
            return config;
        }

        var stdioUsers = new List<string>();
        var chardevs = ReadChardevs(c, stdioUsers);
        var claimed = new HashSet<string>(StringComparer.Ordinal);

        bool defaultSerial = !c.NoDefaults && c.Serials.Count == 0 && !c.Devices.Any(d => d.Values.Get("driver") == "isa-serial");
        bool defaultMonitor = !c.NoDefaults && !c.MonitorGiven;
        bool mux = false;
        var backends = new List<SerialBackend>();
        if (defaultSerial && c.NoGraphic)
        {
            // vl.c: -nographic with both defaults gives "mon:stdio"; with a monitor given, "stdio".
            Claim(stdioUsers, "-nographic", "-nographic");
            backends.Add(SerialBackend.Console);
            mux = defaultMonitor;
        }
        else if (defaultSerial)
        {
            // "vc:80Cx24C": a text console on a display; headless, nobody sees it.
            backends.Add(SerialBackend.Null);
        }
        else if (defaultMonitor && c.NoGraphic)
        {
            Claim(stdioUsers, "-nographic", "-nographic");
        }

        foreach (var (option, text) in c.Serials)
        {
            if (text == "none")
            {
                continue;
            }

            var (backend, isMux) = Inline(option, text, chardevs, claimed, stdioUsers);
            mux |= isMux;
            backends.Add(backend);
        }

        var ports = backends.Take(IsaSerialPort.MaxPorts).Select((b, i) => new SerialPortSpec(i, b)).ToList();
        var virtioDevices = new List<(string Where, QemuKeyValues Kv)>();
        var debugcon = c.DebugConOption is { } d ? Inline(d.Option, d.Text, chardevs, claimed, stdioUsers).Backend : null;
        ushort debugconPort = QemuCommandLine.DebugConDefaultPort;
        DebugExitPorts? debugExit = null;
        foreach (var (option, kv, text) in c.Devices)
        {
            string where = $"{option} {text}";
            switch (kv.Get("driver"))
            {
                case "isa-serial":
                    ports.Add(IsaSerial(where, kv, ports, chardevs, claimed));
                    break;
                case "isa-debugcon":
                    if (debugcon != null)
                    {
                        throw new UsageException($"{where}: emu models one debug console");
                    }

                    debugcon = DeviceChardev(where, kv, "isa-debugcon", chardevs, claimed);
                    debugconPort = kv.Get("iobase") is { } b ? DebugConPort(where, b) : debugconPort;
                    kv.Get("id");
                    QemuCommandLine.RejectProperties(where, kv, "isa-debugcon");
                    break;
                case "virtio-blk-pci":
                    virtioDevices.Add((where, kv));
                    break;
                case "isa-debug-exit":
                    if (debugExit != null)
                    {
                        throw new UsageException($"{where}: emu models one isa-debug-exit device");
                    }

                    debugExit = DebugExit(where, kv);
                    break;
                case var driver:
                    throw new UsageException($"{where}: device '{driver}' is not supported by emu (isa-serial, isa-debugcon, isa-debug-exit and virtio-blk-pci are)");
            }
        }

        var globals = QemuGlobals.Apply(c.Globals, config.Chipset);
        var ide = new List<BootDrive>();
        var virtio = new List<BootDrive>();
        var unattached = new Dictionary<string, BootDrive>(StringComparer.Ordinal);
        var probed = new List<string>();
        var pflash = ReadDrives(c, config.Snapshot, config.Bios != null, config.Chipset, (ide, virtio, unattached), probed);
        virtio = QemuDrives.AttachVirtio(virtioDevices, unattached, virtio);
        if (!c.NoDefaults)
        {
            QemuDrives.AddDefaultCdRom(ide);
        }

        debugconPort = globals.DebugConPort ?? debugconPort;

        var unmodelled = new List<string>();
        if (!c.NoDefaults && !c.VgaNone)
        {
            unmodelled.Add("VGA");
        }

        if (!c.NoDefaults && !c.NetNone)
        {
            unmodelled.Add("network card");
        }

        return config with
        {
            SerialPorts = ports,
            ConsoleMux = mux,
            DebugCon = debugcon,
            DebugConPort = debugconPort,
            DebugExit = debugExit,
            Pflash = pflash,
            IdeDrives = ide,
            VirtioDrives = virtio,
            AbsentDefaultPciSlots = unmodelled.Count,
            ProbedImages = probed,
            UnmodelledDefaults = unmodelled,
            SecureFlash = globals.SecureFlash,
            DisableS3 = globals.DisableS3,
            Warnings = globals.Warnings,
        };
    }

    private static Dictionary<string, (SerialBackend Backend, string Where)> ReadChardevs(QemuCommandLine c, List<string> stdioUsers)
    {
        var result = new Dictionary<string, (SerialBackend, string)>(StringComparer.Ordinal);
        foreach (var (option, kv, text) in c.Chardevs)
        {
            string where = $"{option} {text}";
            string backendName = kv.Get("backend") ?? string.Empty;
            string id = kv.Get("id") ?? throw new UsageException($"{where}: chardev: no id specified");
            SerialBackend backend = backendName switch
            {
                "stdio" => StdioChardev(where, kv),
                "null" => SerialBackend.Null,
                "pty" => new SerialBackend(SerialBackendKind.Pty, Label: id),
                "file" => new SerialBackend(SerialBackendKind.File, kv.Get("path") ?? throw new UsageException($"{where}: chardev: file: no filename given"), kv.GetBool(where, "append", false)),
                _ => throw new UsageException($"{where}: '{backendName}' is not a valid char driver name"),
            };
            kv.RejectUnknown(option, text);
            if (backend.Kind == SerialBackendKind.Console)
            {
                Claim(stdioUsers, where, id);
            }

            if (!result.TryAdd(id, (backend, where)))
            {
                throw new UsageException($"{where}: attempt to add duplicate property '{id}' to object (type 'container')");
            }
        }

        return result;
    }

    private static SerialBackend StdioChardev(string where, QemuKeyValues kv)
    {
        // signal=on (the default) leaves Ctrl-C to the host: it stops the machine, as QEMU.
        if (!kv.GetBool(where, "signal", true))
        {
            throw new UsageException($"{where}: emu supports only signal=on");
        }

        if (kv.GetBool(where, "mux", false))
        {
            throw new UsageException($"{where}: emu has no monitor to multiplex: mux=on is not supported");
        }

        return SerialBackend.Console;
    }

    private static void Claim(List<string> stdioUsers, string where, string user)
    {
        stdioUsers.Add(user);
        if (stdioUsers.Count > 1)
        {
            throw new UsageException($"{where}: cannot use stdio by multiple character devices");
        }
    }

    /// <summary>The <c>-serial</c>/<c>-debugcon</c> spelling of a backend (chardev/char.c qemu_chr_parse_compat).</summary>
    private static (SerialBackend Backend, bool Mux) Inline(
        string option, string text, Dictionary<string, (SerialBackend Backend, string Where)> chardevs, HashSet<string> claimed, List<string> stdioUsers)
    {
        string where = $"{option} {text}";
        switch (text)
        {
            case "stdio":
                Claim(stdioUsers, where, option);
                return (SerialBackend.Console, false);
            case "mon:stdio":
                Claim(stdioUsers, where, option);
                return (SerialBackend.Console, true);
            case "null":
                return (SerialBackend.Null, false);
            case "pty":
                return (new SerialBackend(SerialBackendKind.Pty, Label: option == "-serial" ? null : "debugcon"), false);
        }

        if (text.StartsWith("file:", StringComparison.Ordinal) && text.Length > 5)
        {
            return (new SerialBackend(SerialBackendKind.File, text[5..]), false);
        }

        if (text.StartsWith("chardev:", StringComparison.Ordinal))
        {
            return (Use(where, text[8..], chardevs, claimed, "serial"), false);
        }

        throw new UsageException($"{where}: '{text}' is not a valid char driver");
    }

    private static SerialBackend Use(string where, string id, Dictionary<string, (SerialBackend Backend, string Where)> chardevs, HashSet<string> claimed, string device)
    {
        if (!chardevs.TryGetValue(id, out var chardev))
        {
            throw new UsageException($"{where}: Property '{device}.chardev' can't find value '{id}'");
        }

        if (!claimed.Add(id))
        {
            throw new UsageException($"{where}: Property '{device}.chardev' can't take value '{id}': Device '{id}' is in use");
        }

        return chardev.Backend;
    }

    private static SerialBackend DeviceChardev(string where, QemuKeyValues kv, string device, Dictionary<string, (SerialBackend Backend, string Where)> chardevs, HashSet<string> claimed) =>
        kv.Get("chardev") is { } id ? Use(where, id, chardevs, claimed, device == "isa-serial" ? "serial" : device) : SerialBackend.Null;

    /// <summary>serial_isa_realizefn: the given index, else one more than the ports made so far; at most 4.</summary>
    private static SerialPortSpec IsaSerial(string where, QemuKeyValues kv, List<SerialPortSpec> ports, Dictionary<string, (SerialBackend Backend, string Where)> chardevs, HashSet<string> claimed)
    {
        int index = ports.Count;
        if (kv.Get("index") is { } text && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out index)))
        {
            throw new UsageException($"{where}: Property 'isa-serial.index' doesn't take value '{text}'");
        }

        if (index >= IsaSerialPort.MaxPorts)
        {
            throw new UsageException($"{where}: Max. supported number of ISA serial ports is {IsaSerialPort.MaxPorts}.");
        }

        if (ports.Any(p => p.Index == index))
        {
            throw new UsageException($"{where}: COM{index + 1} (index {index}) is already present");
        }

        var backend = DeviceChardev(where, kv, "isa-serial", chardevs, claimed);
        kv.Get("id");
        QemuCommandLine.RejectProperties(where, kv, "isa-serial");
        return new SerialPortSpec(index, backend);
    }

    /// <summary>
    /// <c>-device isa-debug-exit[,iobase=N][,iosize=N]</c>: QEMU's uint32 properties (defaults 0x501
    /// and 2, hw/misc/debugexit.c), numbers as QEMU's parse_uint_full reads them (decimal, 0x hex,
    /// 0 octal); the window must lie in the 64 KiB I/O space.
    /// </summary>
    private static DebugExitPorts DebugExit(string where, QemuKeyValues kv)
    {
        string? iobase = kv.Get("iobase"), iosize = kv.Get("iosize");
        kv.Get("id");
        QemuCommandLine.RejectProperties(where, kv, "isa-debug-exit");
        return DebugExitPorts(where, iobase, iosize);
    }

    /// <summary>isa-debug-exit's window from its iobase and iosize texts (null: QEMU's default); emu boot's --debug-exit reads it the same way.</summary>
    internal static DebugExitPorts DebugExitPorts(string where, string? iobaseText, string? iosizeText)
    {
        uint iobase = iobaseText != null ? QemuUnsigned(where, "iobase", iobaseText) : IsaDebugExit.DefaultPort;
        uint iosize = iosizeText != null ? QemuUnsigned(where, "iosize", iosizeText) : IsaDebugExit.DefaultPortCount;
        if (iosize == 0 || iobase + (ulong)iosize > 0x10000)
        {
            throw new UsageException($"{where}: isa-debug-exit ports 0x{iobase:X}+{iosize} are not within the I/O space 0x0-0xFFFF");
        }

        return new DebugExitPorts((ushort)iobase, (int)iosize);
    }

    private static uint QemuUnsigned(string where, string property, string value)
    {
        (string digits, int radix) = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? (value[2..], 16)
            : value.Length > 1 && value[0] == '0' ? (value[1..], 8)
            : (value, 10);
        try
        {
            if (digits.Length > 0 && digits.All(char.IsAsciiHexDigit))
            {
                return Convert.ToUInt32(digits, radix);
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
        }

        throw new UsageException($"{where}: Parameter '{property}' expects integer");
    }

    internal static ushort DebugConPort(string where, string value)
    {
        bool hex = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (!ushort.TryParse(hex ? value[2..] : value, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out ushort port)
            || port is not (0x402 or QemuCommandLine.DebugConDefaultPort))
        {
            throw new UsageException($"{where}: emu supports isa-debugcon iobase 0x402 or 0xe9, not '{value}'");
        }

        return port;
    }

    /// <summary>
    /// The -drive options: if=pflash here, if=ide and if=virtio through <see cref="QemuDrives"/>,
    /// if=none kept by id for -device virtio-blk-pci (QEMU's "Duplicate ID" for a second one).
    /// </summary>
    private static List<PflashDrive> ReadDrives(
        QemuCommandLine c, bool snapshotAll, bool bios, PcChipset chipset,
        (List<BootDrive> Ide, List<BootDrive> Virtio, Dictionary<string, BootDrive> Unattached) disks, List<string> probed)
    {
        var (ide, virtio, unattached) = disks;
        var drives = new PflashDrive?[PflashUnits];
        foreach (var (option, kv, text) in c.Drives)
        {
            // A bare image argument has no option: QEMU names it alone.
            string where = option.Length > 0 ? $"{option} {text}" : text;
            switch (kv.Get("if") ?? "ide")
            {
                case "ide":
                    ide.Add(QemuDrives.Read(where, option, kv, text, snapshotAll, chipset, ide, probed));
                    continue;
                case "pflash":
                    break;
                case "virtio":
                    virtio.Add(QemuDrives.ReadVirtio(where, option, kv, text, snapshotAll, probed));
                    continue;
                case "none":
                    string id = kv.Get("id") ?? throw new UsageException($"{where}: emu attaches if=none drives to -device virtio-blk-pci by id: give id=");
                    var drive = QemuDrives.ReadVirtio(where, option, kv, text, snapshotAll, probed);
                    if (!unattached.TryAdd(id, drive))
                    {
                        throw new UsageException($"{where}: Duplicate ID '{id}' for drive");
                    }

                    continue;
                case var other:
                    throw new UsageException($"{where}: emu supports only if=pflash, if=ide, if=virtio and if=none drives, not if={other}");
            }

            if (kv.Get("format") is { } format && format != "raw")
            {
                throw new UsageException($"{where}: emu supports only format=raw");
            }

            string file = kv.Get("file") ?? throw new UsageException($"{where}: Must specify either driver or file");
            bool readOnly = kv.GetBool(where, "readonly", false);
            bool snapshot = kv.GetBool(where, "snapshot", snapshotAll);
            string? unitText = kv.Get("unit") ?? kv.Get("index");
            kv.Get("id");
            kv.Get("media");
            kv.Get("cache");
            kv.RejectUnknown(option, text);
            int unit = Array.FindIndex(drives, d => d == null);
            if (unitText != null && !int.TryParse(unitText, NumberStyles.None, CultureInfo.InvariantCulture, out unit))
            {
                throw new UsageException($"{where}: Parameter 'unit' expects a number");
            }

            if (unit < 0 || unit >= PflashUnits)
            {
                throw new UsageException($"{where}: machine type does not support if=pflash,bus=0,unit={unit}");
            }

            if (drives[unit] != null)
            {
                throw new UsageException($"{where}: drive with bus=0, unit={unit} (index={unit}) exists");
            }

            drives[unit] = new PflashDrive(unit, file, readOnly, snapshot);
        }

        if (drives[0] == null && (drives[1] != null || !bios))
        {
            throw new UsageException(drives[1] != null
                ? "pflash1 requires pflash0"
                : "no firmware: give it with -drive if=pflash,format=raw,file=OVMF_CODE.fd or -bios (QEMU's default SeaBIOS is not part of emu)");
        }

        return drives.Where(d => d != null).Select(d => d!).ToList();
    }
}
