using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Compat;
using Emulator.Cli.Inspect;
using Emulator.Cli.Logging;
using Emulator.Cli.Vars;
using Microsoft.Extensions.Logging;

namespace Emulator.Cli;

/// <summary>
/// Entry point: picks the command, maps errors to exit statuses (2 for bad input with a one-line
/// reason on stderr), and keeps stdout for the guest's serial console alone.
/// </summary>
public static class CommandDispatcher
{
    public const string Usage = """
        usage: emu <command> [options]

        commands:
          boot     run firmware from the reset vector
                   --code FILE [--vars FILE] | --firmware FILE | neither: QEMU's firmware descriptors pick it ('emu firmware list')
                   --vm NAME (without firmware options: the VM's own varstore copy, default 'default')
                   --memory SIZE (default 256M)   --until reset|protected|long|sec|pei|dxe|bds|shell|banner|prompt|idle
                   --max-instructions N           --report FILE.json
                   --trace FILE [--trace-limit N] --unassigned-zero (read 0 like QEMU)
                   --serial-input TEXT|@FILE|-   type into COM1 as the guest reads (- = live stdin)
                   --expect TEXT --send TEXT|@FILE  wait for console text, then type (in order)
                   --serial-log FILE  --debugcon FILE  --rtc-start DATE
                   --pace auto|realtime|off (guest waits to wall time)  --exact-waits
                   --snapshot (never write the varstore)  --flash-log FILE
                   --quiet | --verbose | --no-status
                   --force (boot a CODE/VARS pair that does not match, in snapshot mode)
                   --interpret (no block compilation: every block interpreted)
                   --no-reboot (a guest reset ends the run)  --max-resets N (default 16)
                   --no-hang-detect (spin on in a dead loop instead of stopping with 'hang')
                   --timeline (after the run: every module started, where, when, instructions inside)
          bench    flash write throughput: device level, guest level, images for QEMU
                   flash [--seconds S (per device figure, default 0.5)] [--chip SIZE (default 256K)]
                   [--bytes SIZE (guest region, default 1M)] [--passes N (default 4)]
                   [--only device|guest|none] [--json FILE] [--write-image DIR]
                   [--file-dir DIR (scratch varstores for persisted figures) | --no-file]
        """ + "\n" + CompatCommand.Usage + "\n" + InspectCommand.Usage + "\n" + Compare.CompareCommand.Usage + "\n" + Compare.MatrixCommand.Usage + "\n" + VarsCommand.Usage + "\n" + FirmwareCommand.Usage + "\n" + """
          qemu     a drop-in for qemu-system-x86_64 (the subset firmware harnesses use; 'emu qemu -help')
                   QEMU's options and exit statuses; tools/qemu-system-x86_64 runs it under QEMU's name
          help     this text

        exit status: 0 done, 1 ran but fell short, 2 bad input or usage
        """;

    /// <param name="firmware">Where a boot without firmware options looks (tests inject theirs); null: the environment's.</param>
    public static int Run(string[] args, Stream stdout, TextWriter stderr, HostConsole? host = null, FirmwareSearch? firmware = null)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            stderr.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] == "qemu")
        {
            // QEMU's own conventions: its error wording and exit status 1 for a bad command line.
            return Qemu.QemuCommand.Run(args[1..], stdout, stderr, host ?? HostConsole.None);
        }

        try
        {
            switch (args[0])
            {
                case "boot":
                    {
                        var options = BootOptionsParser.Parse(args.Skip(1));
                        using var loggers = CreateLoggers(stderr, options.Quiet ? LogLevel.Warning : options.Verbose ? LogLevel.Debug : LogLevel.Information);
                        var restored = options.Restore is { } state ? StateFiles.Load(state) : null;
                        try
                        {
                            options = restored != null ? StateFiles.ForRestore(options, restored) : options;
                            options = DefaultFirmware.Resolve(options, firmware ?? FirmwareSearch.FromEnvironment(), loggers.CreateLogger("firmware"));
                            return new BootCommand(loggers, stdout, stderr, host ?? HostConsole.None).Run(options);
                        }
                        finally
                        {
                            restored?.Snapshot.Dispose();
                        }
                    }

                case "firmware":
                    return new FirmwareCommand(stdout, firmware ?? FirmwareSearch.FromEnvironment()).Run(args[1..]);

                case "vars":
                    return new VarsCommand(stdout).Run(args[1..]);

                case "compat":
                    return new CompatCommand(stdout).Run(args.Skip(1));

                case "inspect":
                    return new InspectCommand(stdout).Run(args.Skip(1));

                case "bench":
                    {
                        var options = BenchOptionsParser.Parse(args.Skip(1));
                        using var output = new StreamWriter(stdout, new System.Text.UTF8Encoding(false), leaveOpen: true) { AutoFlush = true };
                        return new Bench.BenchCommand(output, stderr).Run(options);
                    }

                case "compare":
                    return new Compare.CompareCommand(stdout, stderr).Run(args.Skip(1));

                case "matrix":
                    return new Compare.MatrixCommand(stdout, stderr, host ?? HostConsole.None).Run(args.Skip(1));

                default:
                    throw new UsageException($"unknown command '{args[0]}' (try 'emu help')");
            }
        }
        catch (VariableNotFoundException e)
        {
            stderr.WriteLine($"emu: {UsageException.OneLine(e.Message)}");
            return 1;
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"emu: {UsageException.OneLine(e.Message)}");
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"emu: {UsageException.OneLine(e.Message)}");
            return 2;
        }
    }

    private static ILoggerFactory CreateLoggers(TextWriter stderr, LogLevel level) => LoggerFactory.Create(b => b
        .SetMinimumLevel(level)
        .AddProvider(new TextWriterLoggerProvider(stderr)));
}
