using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Serial;
using Emulator.Hosting.Qemu;
using Emulator.Hosting.Serial;
using Microsoft.Extensions.Logging;

namespace Emulator.Cli.Qemu;

/// <summary>
/// <c>emu qemu &lt;qemu-system-x86_64 arguments&gt;</c> (and tools/qemu-system-x86_64): a drop-in for
/// firmware harnesses. The command line is read with QEMU's meaning (<see cref="QemuCommandLine"/>)
/// and run on boot's machinery with QEMU's behaviour: no instruction limit, nothing on stderr but
/// warnings and errors, the serial console on stdout, guest waits held to the wall clock (QEMU's
/// default; <c>-icount shift=0,sleep=off</c> lets them run ahead), and QEMU's exit statuses — 0 for
/// a power-off, a reset with -no-reboot, or a signal; 1 for a bad command line, with one line
/// <c>qemu-system-x86_64: -opt arg: reason</c> on stderr.
/// </summary>
public static class QemuCommand
{
    public const string Program = "qemu-system-x86_64";

    /// <summary>Set to 1, a CODE/VARS mismatch is refused (exit 1) instead of only warned about.</summary>
    public const string RefuseMismatchVariable = "EMU_REFUSE_VARS_MISMATCH";

    public const string Version = "QEMU emulator version 7.2.0 (emu drop-in: the subset firmware harnesses use)";

    public const string Help = """
        usage: qemu-system-x86_64 [options]   (emu's QEMU drop-in; the options below, with QEMU's meaning)
          -machine pc[,accel=tcg] | pc-i440fx-*   -accel tcg   -cpu qemu64   -m SIZE   -smp 1
          -drive if=pflash,format=raw,unit=N,readonly=on|off,snapshot=on|off,file=PATH   -pflash PATH   -bios PATH
          -serial stdio|mon:stdio|file:PATH|null|none|pty|chardev:ID
          -chardev stdio|file|pty|null,id=ID[,path=PATH]   -device isa-serial[,chardev=ID][,index=N]
          -debugcon file:PATH|null|chardev:ID   -device isa-debugcon,chardev=ID,iobase=0x402
          -global isa-debugcon.iobase=0x402   -global cfi.pflash01.secure=on|off
          -nodefaults -no-user-config -display none -nographic -vga none -monitor none -net none
          -nic none -parallel none -no-hpet -no-reboot -no-shutdown -snapshot -name NAME
          -icount shift=0[,sleep=off]   -version   -help
        """;

    public static int Run(string[] args, Stream stdout, TextWriter stderr, HostConsole host)
    {
        QemuConfig config;
        BootOptions options;
        try
        {
            config = QemuCommandLine.Parse(args);
            if (config.InfoRequest != null)
            {
                using var output = new StreamWriter(stdout, leaveOpen: true);
                output.WriteLine(config.InfoRequest == "version" ? Version : Help);
                return 0;
            }

            options = ToBootOptions(config);

            // QEMU refuses a firmware file before it starts: so the refusal comes alone, before any warning.
            BootFiles.CheckLayout(options);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"{Program}: {UsageException.OneLine(e.Message)}");
            return 1;
        }

        if (config.UnmodelledDefaults.Count > 0)
        {
            stderr.WriteLine($"{Program}: warning: emu does not model QEMU's default {string.Join(" and ", config.UnmodelledDefaults)}: the guest runs without; -nodefaults says so");
        }

        try
        {
            using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(new Logging.TextWriterLoggerProvider(stderr)));
            return new BootCommand(loggers, stdout, stderr, host).Run(options);
        }
        catch (Exception e) when (e is UsageException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{Program}: {UsageException.OneLine(e.Message)}");
            return 1;
        }
    }

    /// <summary>The boot options that run <paramref name="c"/>: flash units, ports, pacing, power.</summary>
    public static BootOptions ToBootOptions(QemuConfig c)
    {
        if (c.Pflash.Count == 0)
        {
            return Common(c) with { Bios = c.Bios };
        }

        var unit0 = c.Pflash[0];
        var unit1 = c.Pflash.Count > 1 ? c.Pflash[1] : null;
        var writable = c.Pflash.Where(d => !d.ReadOnly).ToList();
        if (writable.Select(d => d.Snapshot).Distinct().Count() > 1)
        {
            throw new UsageException("emu needs the same snapshot setting on both writable pflash units");
        }

        return Common(c) with
        {
            // A single writable unit 0 is a unified image; read-only it is code without a varstore.
            Firmware = unit1 == null && !unit0.ReadOnly ? unit0.File : null,
            Code = unit1 != null || unit0.ReadOnly ? unit0.File : null,
            CodeWritable = unit1 != null && !unit0.ReadOnly,
            Vars = unit1?.File,
            VarsReadOnly = unit1?.ReadOnly == true,
            Snapshot = writable.Any(d => d.Snapshot),
        };
    }

    /// <summary>Everything but the firmware: memory, ports, pacing, power.</summary>
    private static BootOptions Common(QemuConfig c)
    {
        if (c.DebugCon is { Kind: SerialBackendKind.Console })
        {
            throw new UsageException("-debugcon stdio: emu keeps stdout for the serial console; use -debugcon file:PATH");
        }

        bool console = c.SerialPorts.Any(p => p.Backend.Kind == SerialBackendKind.Console);
        return new BootOptions
        {
            Memory = c.Memory,
            MaxInstructions = long.MaxValue,
            SerialPorts = c.SerialPorts,
            SerialSteps = console ? [(BootOptions.SerialInputOption, "-")] : [],
            ConsoleKeys = (c.ConsoleMux, true),
            DebugConBackend = c.DebugCon,
            DebugConPort = c.DebugConPort,
            Pace = c.NoSleep ? BootOptions.PaceOff : BootOptions.PaceRealTime,
            NoStatus = true,
            Quiet = true,
            NoReboot = c.NoReboot,
            NoHpet = c.NoHpet,

            // QEMU reboots for ever, and spins in a hung guest for ever; a reset loop or a dead
            // loop is the harness's to time out, as with QEMU.
            MaxResets = int.MaxValue,
            HangDetection = false,
            Qemu = new QemuBehaviour(c.NoShutdown, RefuseMismatch: Environment.GetEnvironmentVariable(RefuseMismatchVariable) == "1"),
        };
    }
}
