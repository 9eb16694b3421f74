using Emulator.Cli.Boot;
using Emulator.Cli.CommandLine;
using Emulator.Cli.Compat;
using Emulator.Cli.Inspect;
using Emulator.Hosting.Inspect;
using Emulator.Hosting.Logging;
using Emulator.Cli.Vars;
using Microsoft.Extensions.Logging;

namespace Emulator.Cli;

/// <summary>
/// Entry point: QEMU's command line to the drop-in, every other to System.CommandLine's tree
/// (<see cref="EmuCommandLine"/>); maps errors to exit statuses (2 for bad input with a one-line
/// reason on stderr), and keeps stdout for the guest's serial console alone.
/// </summary>
public static class CommandDispatcher
{
    /// <param name="firmware">Where a boot without firmware options looks (tests inject theirs); null: the environment's.</param>
    public static int Run(string[] args, Stream stdout, TextWriter stderr, HostConsole? host = null, FirmwareSearch? firmware = null)
    {
        if (args.Length > 0 && args[0] is "qemu" or "qemu-i386")
        {
            // QEMU's own conventions: its single-dash options, error wording and exit status 1 for a
            // bad command line; qemu-i386 is qemu-system-i386 (tools/qemu-system-i386).
            return Qemu.QemuCommand.Run(args[1..], stdout, stderr, host ?? HostConsole.None, i386: args[0] == "qemu-i386");
        }

        try
        {
            return EmuCommandLine.Run(args, Actions(stdout, stderr, host ?? HostConsole.None, firmware));
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

    private static CommandActions Actions(Stream stdout, TextWriter stderr, HostConsole host, FirmwareSearch? firmware) => new(stdout, stderr)
    {
        Boot = a =>
        {
            var options = BootOptionsParser.Read(a);
            using var loggers = CreateLoggers(stderr, options.Quiet ? LogLevel.Warning : options.Verbose ? LogLevel.Debug : LogLevel.Information);
            var restored = options.Restore is { } state ? StateFiles.Load(state) : null;
            try
            {
                options = restored != null ? StateFiles.ForRestore(options, restored) : options;
                options = DefaultFirmware.Resolve(options, firmware ?? FirmwareSearch.FromEnvironment(), loggers.CreateLogger("firmware"));
                return new BootCommand(loggers, stdout, stderr, host).Run(options);
            }
            finally
            {
                restored?.Snapshot.Dispose();
            }
        },
        Bench = a =>
        {
            var options = BenchOptionsParser.Read(a);
            using var output = new StreamWriter(stdout, new System.Text.UTF8Encoding(false), leaveOpen: true) { AutoFlush = true };
            return new Bench.BenchCommand(output, stderr).Run(options);
        },
        FirmwareList = a => new FirmwareCommand(stdout, firmware ?? FirmwareSearch.FromEnvironment()).Run(a),
        Vars = (subcommand, a) => new VarsCommand(stdout).Run(subcommand, a),
        Compat = a => new CompatCommand(stdout).Run(a),
        Inspect = a => new InspectCommand(stdout).Run(a),
        Compare = a => new Compare.CompareCommand(stdout, stderr).Run(a),
        Matrix = a => new Compare.MatrixCommand(stdout, stderr, host).Run(a),
    };

    private static ILoggerFactory CreateLoggers(TextWriter stderr, LogLevel level) => TextWriterLoggerProvider.Factory(stderr, level);
}
