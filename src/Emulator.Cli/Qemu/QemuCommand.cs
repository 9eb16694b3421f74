using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Hosting.Logging;
using Emulator.Core.Cpu;
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

    /// <summary>The drop-in's name as tools/qemu-system-i386 (QEMU's 32-bit build: qemu32 CPU, 32-bit SMM state map).</summary>
    public const string ProgramI386 = "qemu-system-i386";

    public const string Version = "QEMU emulator version 7.2.0 (emu drop-in: the subset firmware harnesses use)";

    public const string Help = """
        usage: qemu-system-x86_64 [options]   (emu's QEMU drop-in; the options below, with QEMU's meaning)
          -machine pc|q35[,accel=tcg][,smm=on|off|auto] | pc-i440fx-* | pc-q35-*   -M ...   -accel tcg
          -cpu qemu64|qemu32   -m SIZE   -smp 1
          -drive if=pflash,format=raw,unit=N,readonly=on|off,snapshot=on|off,file=PATH   -pflash PATH   -bios PATH
          -serial stdio|mon:stdio|file:PATH|null|none|pty|chardev:ID
          -chardev stdio|file|pty|null,id=ID[,path=PATH]   -device isa-serial[,chardev=ID][,index=N]
          -debugcon file:PATH|null|chardev:ID   -device isa-debugcon,chardev=ID,iobase=0x402
          -global isa-debugcon.iobase=0x402   -global driver=cfi.pflash01,property=secure,value=on|off
          -global ICH9-LPC.disable_s3=1   -global PIIX4_PM.disable_s3=1
          -drive file=IMAGE|fat:rw:DIR,format=raw[,if=ide][,index=N][,media=disk|cdrom][,snapshot=on]
          -hda..-hdd IMAGE   -cdrom ISO   IMAGE (= -hda)   -boot [order=]cad[,once=d][,menu=on][,splash-time=MS][,reboot-timeout=MS]
          -nodefaults -no-user-config -display none -nographic -vga none -monitor none -net none
          -nic none -parallel none -no-hpet -no-reboot -no-shutdown -snapshot -name NAME
          -icount shift=0[,sleep=off]   -gdb tcp::PORT|tcp:HOST:PORT   -s (= -gdb tcp::1234)   -S (wait for gdb)
          -version   -help
        """;

    public static int Run(string[] args, Stream stdout, TextWriter stderr, HostConsole host, bool i386 = false)
    {
        string program = i386 ? ProgramI386 : Program;
        QemuConfig config;
        BootOptions options;
        try
        {
            config = QemuCommandLine.Parse(args, i386);
            if (config.InfoRequest != null)
            {
                using var output = new StreamWriter(stdout, leaveOpen: true);
                output.WriteLine(config.InfoRequest == "version" ? Version : Help);
                return 0;
            }

            options = QemuBootOptions.From(config);

            // QEMU refuses a firmware file before it starts: so the refusal comes alone, before any warning.
            FirmwareFiles.CheckLayout(options);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"{program}: {UsageException.OneLine(e.Message)}");
            return 1;
        }

        foreach (string warning in config.Warnings)
        {
            stderr.WriteLine($"{program}: warning: {warning}");
        }

        foreach (string image in config.ProbedImages)
        {
            // block.c bdrv_open_inherit's words; emu reads such an image as raw and does not restrict block 0.
            stderr.WriteLine($"WARNING: Image format was not specified for '{image}' and probing guessed raw.");
            stderr.WriteLine("         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.");
            stderr.WriteLine("         Specify the 'raw' format explicitly to remove the restrictions.");
        }

        if (config.UnmodelledDefaults.Count > 0)
        {
            stderr.WriteLine($"{program}: warning: emu does not model QEMU's default {string.Join(" and ", config.UnmodelledDefaults)}: the guest runs without; -nodefaults says so");
        }

        try
        {
            using var loggers = TextWriterLoggerProvider.Factory(stderr, LogLevel.Warning);
            var session = new BootSession(options, stdout, stderr, loggers, host);
            using var signals = new CancelHandler(session.Stop);
            var report = session.Run();
            return ExitStatus(session, options.Qemu!, options.NoReboot, report.Stop.Detail, stderr, program);
        }
        catch (Exception e) when (e is UsageException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{program}: {UsageException.OneLine(e.Message)}");
            return 1;
        }
    }

    /// <summary>
    /// QEMU's exit statuses: 0 when the guest powered off (after a signal with -no-shutdown, which
    /// keeps the process until then), when a signal or the quit key stopped it (QEMU prints
    /// "terminating on signal N"), and when it reset or triple-faulted with -no-reboot (without
    /// it the machine has rebooted and run on, keeping the varstore); 1 for anything that is no
    /// QEMU outcome (a CPU halted for good, an emulator failure), with the reason on stderr.
    /// </summary>
    private static int ExitStatus(BootSession session, QemuBehaviour qemu, bool noReboot, string? detail, TextWriter stderr, string program)
    {
        if (!session.Saved || session.InternalError != null)
        {
            return 1;
        }

        var stop = session.Stop;
        switch (session.Reason)
        {
            case StopReason.PowerOff when qemu.NoShutdown && !stop.Requested:
                session.LiveInput?.QuitRequested += _ => stop.Release();
                stop.Stopped.Wait();
                return 0;
            case StopReason.PowerOff:
                return 0;
            case StopReason.GuestExit when session.GuestExitStatus is { } status:
                return status;
            case StopReason.Requested when stop.Requested:
                stderr.WriteLine($"{program}: terminating on signal {stop.Signal}");
                return 0;
            case StopReason.Requested when session.LiveInput?.QuitWasRequested == true:
                stderr.WriteLine("QEMU: Terminated");
                return 0;
            case StopReason.Reset or StopReason.TripleFault when noReboot:
                return 0;
            default:
                stderr.WriteLine($"{program}: emu stopped the machine: {session.Reason}{(detail != null ? ": " + detail : string.Empty)}");
                return 1;
        }
    }
}
