using System.Diagnostics;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;
using Emulator.Core.Memory;
using Emulator.Firmware;
using Emulator.Firmware.Varstore;
using Emulator.Hosting.Compat;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;
using Emulator.Hosting.Serial;
using Emulator.Hosting.Varstore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Boot;

/// <summary>
/// One boot of the PC machine: builds it from <see cref="BootOptions"/> (the firmware files opened,
/// the CODE/VARS pair checked, the varstore persisted crash-safely unless in snapshot mode), runs it
/// from the reset vector until the <see cref="BootOptions.Until"/> milestone or another stop, and
/// returns the <see cref="RunReport"/>. The guest's serial console goes to the stream given, notices
/// (a pty's name, a CODE/VARS mismatch, the status line) to the writer, and progress to the loggers.
/// What the <c>emu boot</c> command and the QEMU drop-in run; a harness runs one without any CLI:
/// <code>var report = new BootSession(options, consoleStream, TextWriter.Null).Run();</code>
/// A session runs once.
/// </summary>
public sealed class BootSession
{
    private readonly BootOptions _options;
    private readonly ILogger _log;
    private readonly ILoggerFactory _loggers;
    private readonly Stream _serialOut;
    private readonly TextWriter _stderr;
    private readonly HostConsole _host;
    private readonly CodeImage _code;
    private bool _started;
    private Gdb.GdbSymbols? _symbols;
    private ReplayGate? _replay;

    /// <param name="options">What to boot and how; see <see cref="BootOptions"/>.</param>
    /// <param name="consoleOutput">Receives every byte the guest writes to a serial port on the console (COM1 for <c>boot</c>), flushed at each line and host poll.</param>
    /// <param name="messages">Receives notices meant for a person: a pseudo-terminal's name, a CODE/VARS mismatch's explanation, the status line.</param>
    /// <param name="loggers">Progress (milestones, resets, the summary) and warnings; none when null.</param>
    /// <param name="host">What the process is attached to (live console input, terminals); <see cref="HostConsole.None"/> when null.</param>
    public BootSession(BootOptions options, Stream consoleOutput, TextWriter messages, ILoggerFactory? loggers = null, HostConsole? host = null)
    {
        _options = options;
        _host = host ?? HostConsole.None;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _log = _loggers.CreateLogger("boot");
        _serialOut = consoleOutput;
        _stderr = messages;
        _code = new CodeImage(_log);
    }

    /// <summary>A session whose console output, notices and logs go nowhere: the report is all it gives.</summary>
    public BootSession(BootOptions options)
        : this(options, Stream.Null, TextWriter.Null)
    {
    }

    /// <summary>Stops the run at the next instruction boundary, from any thread, before or during <see cref="Run()"/>.</summary>
    public StopRequest Stop { get; } = new();

    /// <summary>Raised on the run's thread as each milestone is first reached.</summary>
    public event Action<Milestone>? MilestoneReached;

    /// <summary>Why the machine stopped (<see cref="StopReason.None"/> after an internal error); set by <see cref="Run()"/>.</summary>
    public StopReason Reason { get; private set; }

    /// <summary>The exit status the guest chose through isa-debug-exit (stop reason <see cref="StopReason.GuestExit"/>), or null.</summary>
    public int? GuestExitStatus { get; private set; }

    /// <summary>The <see cref="BootOptions.Until"/> milestone was reached.</summary>
    public bool UntilReached { get; private set; }

    /// <summary>Every writable flash unit's file was saved (always true in snapshot mode) and every <c>fat:rw</c> folder committed.</summary>
    public bool Saved { get; private set; } = true;

    /// <summary>An emulator failure that ended the run (the report's stop reason <c>internalError</c>), or null.</summary>
    public string? InternalError { get; private set; }

    /// <summary>The console's live input (typed on the host's stdin), when the run had one: the QEMU drop-in's quit key.</summary>
    public LiveInput? LiveInput { get; private set; }

    /// <summary>
    /// <c>emu boot</c>'s success: the <see cref="BootOptions.Until"/> milestone reached, or, without
    /// it, a guest power-off or a guest reset under <see cref="BootOptions.NoReboot"/> (QEMU's
    /// -no-reboot exits 0 too); and every varstore saved. A limit, a fault (a triple fault
    /// included), a reset loop, a hang or a CPU halted for good leave the firmware short of where
    /// it should be.
    /// </summary>
    public bool Succeeded => Saved && (UntilReached || (Reason is StopReason.PowerOff or StopReason.Reset && InternalError == null));

    /// <summary>
    /// Boots and runs the machine to its stop and returns the report. Bad input (a missing or
    /// unreadable file, a refused CODE/VARS pair, an unwritable output) throws
    /// <see cref="UsageException"/> with a one-line reason before the guest runs.
    /// </summary>
    public RunReport Run()
    {
        if (_started)
        {
            throw new InvalidOperationException("a boot session runs once");
        }

        _started = true;
        var o = _options;
        // A symbol folder that is not there is refused before any file is opened.
        _symbols = o.Symbols != null ? new Gdb.GdbSymbols(o.Symbols) : null;
        var files = new List<FirmwareFileInfo>();
        var flash = new List<FlashImage>();
        var writable = new List<(int Unit, VarstoreFile File)>();
        BootDrives? drives = null;
        try
        {
            // Unit 0: a unified image (writable, QEMU's -pflash default) or the code, read-only as libvirt maps it (readonly=on) unless asked otherwise; unit 1: the varstore.
            FirmwareFiles.CheckLayout(o);
            byte[]? bios = null;
            if (o.Bios != null)
            {
                var (bytes, info) = FirmwareFiles.Load(InputRole.Bios("bios"), o.Bios);
                files.Add(info);
                bios = bytes;
            }
            else if (o.Firmware != null)
            {
                AddUnit("firmware", o.Firmware, isWritable: true);
            }
            else
            {
                AddUnit("code", o.Code!, o.CodeWritable);
                if (o.Vars != null)
                {
                    // Check the pair on the file's bytes before the varstore is opened (opening may replay
                    // a journal into the file): a refused pair never touches it, --force means snapshot.
                    // A restore brings its own VARS (the migrated contents): judged in StateFiles.CheckMigration instead.
                    var (varsBytes, _) = FirmwareFiles.Load(InputRole.Flash("vars"), o.Vars);
                    o = o.Restored != null ? o : CheckPair(o, _code.Parse(flash[0].Contents), varsBytes);
                    AddUnit("vars", o.Vars!, !o.VarsReadOnly);
                }
            }

            if (o.Restored is { } state)
            {
                StateFiles.TakeFlashFromState(state, flash, _stderr);
            }

            // The media are opened once every other input was checked, so a refusal elsewhere locks no image.
            drives = BootDrives.Open(o.Drives, _log);
            return Run(o, files, flash, bios ?? flash[0].Contents, writable, drives);
        }
        finally
        {
            drives?.Dispose();
            // Every end closes the file, a usage error found late (a bad --serial-input file) too:
            // no journal is left beside the user's file. The persistence writer has drained by
            // now; a failed one keeps its journal (Close leaves it) for the next boot to replay.
            foreach (var (_, file) in writable)
            {
                try
                {
                    file.Close();
                }
                finally
                {
                    file.Dispose();
                }
            }
        }

        void AddUnit(string role, string path, bool isWritable)
        {
            if (isWritable)
            {
                var file = VarstoreFile.Open(InputRole.Flash(role), path, o.Snapshot);
                writable.Add((flash.Count, file));
                files.Add(file.Info);
                flash.Add(new FlashImage(path, file.Bytes, ReadOnly: false));
            }
            else
            {
                var (bytes, info) = FirmwareFiles.Load(InputRole.Flash(role), path);
                files.Add(info);
                flash.Add(new FlashImage(path, bytes, ReadOnly: true));
            }
        }
    }

    private RunReport Run(BootOptions o, List<FirmwareFileInfo> files, List<FlashImage> flash, byte[] codeBytes, List<(int Unit, VarstoreFile File)> writable, BootDrives drives)
    {
        foreach (var v in writable.Select(w => w.File).Where(f => f.Recovered.Records > 0))
        {
            _log.LogWarning(
                "{File}: recovered {Records} journal record(s), {Bytes} bytes, left by an interrupted run{Where}{Torn}",
                v.Path, v.Recovered.Records, v.Recovered.DataBytes,
                v.Snapshot ? " (applied in memory only: --snapshot)" : string.Empty,
                v.Recovered.TornBytes > 0 ? $"; a torn tail of {v.Recovered.TornBytes} bytes was discarded" : string.Empty);
        }

        using var console = new ConsoleSession(o, _serialOut, _host);
        // Under gdb, history can be replayed (reverse execution): the host's serial I/O goes through a gate.
        _replay = o.Gdb != null ? new ReplayGate() : null;
        using var backends = new SerialBackends(console, _stderr, _replay);
        var serialPorts = o.SerialPorts.Select(backends.Port).ToList();
        // A debug console with a null backend still exists (the guest finds it and writes to nothing).
        var debugConBackend = o.DebugConBackend ?? (o.DebugCon != null ? new SerialBackend(SerialBackendKind.File, o.DebugCon) : null);
        var debugAssert = new DebugLogAssert();
        var debugCon = debugConBackend != null ? debugAssert.Tee(backends.Open(debugConBackend, "debugcon", "debug console log").Output ?? (_ => { })) : null;
        PcMachine machine;
        try
        {
            machine = new PcMachine(new MachineOptions
            {
                RamSize = o.Memory,
                Flash = flash,
                Bios = o.Bios != null ? codeBytes : null,
                UnassignedReadsZero = o.UnassignedZero,
                SerialPorts = serialPorts,
                DebugConsoleOutput = debugCon,
                DebugConsolePort = o.DebugConPort,
                RtcStart = o.RtcStart,
                SkipBusyWaits = !o.ExactWaits,
                NoReboot = o.NoReboot,
                MaxResets = o.MaxResets,
                Hpet = !o.NoHpet,
                Chipset = o.Chipset,
                Smm = o.Smm,
                SecureFlash = o.SecureFlash,
                DisableS3 = o.DisableS3,
                CpuModel = o.Cpu,
                SmmSaveMap32 = o.SmmSaveMap32,
                DebugExit = o.DebugExit,
                SmbiosOemStrings = [.. o.OemStrings.Select(s => s.Bytes())],
                IdeDrives = drives.IdeDrives,
                VirtioDrives = drives.VirtioDrives,
                AbsentDefaultPciSlots = o.AbsentDefaultPciSlots,
                BootOrder = o.BootDevices.Order,
                BootOrderOnce = o.BootDevices.Once,
                BootMenu = o.BootDevices.Menu,
                BootMenuWait = o.BootDevices.MenuWait,
                RebootTimeout = o.BootDevices.RebootTimeout,
            });
            MachineCheck.RequireChipset(machine, o.Chipset);
            machine.Cpu.HostPoll += backends.Flush;
            machine.Cpu.BlockCompilation = !o.Interpret;
            foreach (var disk in machine.VirtioDisks)
            {
                // QEMU's virtio_error reports at once (error_report) and leaves the device broken until reset.
                string name = disk.Name;
                disk.Block.GuestError += error => _log.LogWarning("{Device}: {Error} (a guest error: the device takes no request until the guest resets it)", name, error);
            }
        }
        catch (Exception e) when (e is FirmwareLayoutException or MachineConfigurationException)
        {
            throw new UsageException(e.Message);
        }

        StateFiles.RestoreInto(machine, o);

        Dictionary<string, ulong> addressMilestones;
        IReadOnlyList<FirmwareModule> modules;
        try
        {
            addressMilestones = _code.LocateMilestones(codeBytes, o.Until, out modules);
        }
        catch
        {
            machine.Dispose();
            throw;
        }

        using (machine)
        {
            var stores = new List<(VarstoreFile File, FlashPersistence? Writer)>();
            try
            {
                foreach (var (unit, file) in writable)
                {
                    var persistence = file.Snapshot ? null : new FlashPersistence(file);
                    stores.Add((file, persistence));
                    if (persistence != null)
                    {
                        machine.FlashChips[unit].AddListener(persistence);
                        StateFiles.PersistMigratedContents(o, file, machine.FlashChips[unit], persistence);
                    }
                }

                var report = Execute(o, machine, files, addressMilestones, console, debugAssert, modules, stores);
                report = drives.Finish(report, _log);
                Saved &= !drives.CommitFailed;
                return report;
            }
            finally
            {
                foreach (var (_, writer) in stores)
                {
                    writer?.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// Checks the CODE/VARS pair before anything runs (issue 5): a mismatch makes OVMF lose or
    /// destroy the user's variables, so it is refused unless --force, which boots in snapshot mode.
    /// </summary>
    private BootOptions CheckPair(BootOptions o, FirmwareImage? code, byte[] vars)
    {
        var verdict = code is null ? null : CompatibilityCheck.Evaluate(code, vars);
        if (verdict is null)
        {
            _log.LogDebug("the code image carries no OVMF varstore template: CODE/VARS check skipped");
            return o;
        }

        if (verdict.Compatible)
        {
            _log.LogDebug("CODE/VARS check: {Finding}", verdict.Findings[0]);
            return o;
        }

        foreach (string line in CompatibilityCheck.Describe(verdict, o.Code!, o.Vars!))
        {
            _stderr.WriteLine(line);
        }

        if (o.Qemu is { } qemu)
        {
            // A drop-in behaves like QEMU, which boots any pair: the warning above is all, unless asked.
            return qemu.RefuseMismatch
                ? throw new UsageException($"this VARS file does not fit this code build (see above): refused as {Qemu.QemuBootOptions.RefuseMismatchVariable}=1 asks")
                : o;
        }

        if (!o.Force)
        {
            throw new UsageException("boot refused: this VARS file does not fit this code build (see above); convert it with 'emu vars convert', or boot anyway with --force (snapshot mode)");
        }

        _log.LogWarning("--force: booting the mismatched pair in snapshot mode; the varstore file will not be written");
        return o with { Snapshot = true };
    }

    private RunReport Execute(
        BootOptions o, PcMachine machine, List<FirmwareFileInfo> files, Dictionary<string, ulong> addressMilestones, ConsoleSession console,
        DebugLogAssert debugAssert, IReadOnlyList<FirmwareModule> modules, List<(VarstoreFile File, FlashPersistence? Writer)> stores)
    {
        var cpu = machine.Cpu;
        var wall = Stopwatch.StartNew();
        var tracker = new MilestoneTracker(cpu, wall, addressMilestones, o.Until);
        var recognizer = new ModuleRecognizer(cpu, machine.Bus, modules);
        // The writable chips' counters at each milestone: the report's flash writes per boot phase.
        var flashAt = new Dictionary<Milestone, (long Bytes, long Blocks)>(ReferenceEqualityComparer.Instance);
        SessionState.FromJson(o.Restored?.Session)?.Apply(tracker, flashAt, console, recognizer);
        tracker.Watch(console.Transcript);
        tracker.Watch(recognizer);
        var guestMemory = GuestMemory.Of(machine.Bus);
        var images = new LoadedImageProbe(cpu, guestMemory, recognizer);
        tracker.Watch(images);
        var idle = new IdleDetector(() => console.Transcript.BytesPrinted);
        idle.Watch(machine);
        idle.Watch(new ConsoleInputPolls(cpu, guestMemory, images, tracker.Reached.Where(m => m.Boot == tracker.CurrentBoot)), cpu);
        tracker.Watch(idle, console.Screen);
        var hang = o.HangDetection ? HangDetector.Watch(machine, console.Transcript, recognizer, debugAssert) : null;
        tracker.MilestoneReached += m => MilestoneReached?.Invoke(m);
        if (o.Restored is null && _log.IsEnabled(LogLevel.Debug))
        {
            // The first milestone is the reset vector, before the first instruction runs.
            bool first = true;
            tracker.MilestoneReached += _ =>
            {
                if (first && StartupClock.SinceProcessStart() is { } since)
                {
                    _log.LogDebug("start-up: the first instruction {Since}", since);
                }

                first = false;
            };
        }

        recognizer.ModuleStarted += m => _log.LogDebug(
            "module {Name} ({Type}) entered at 0x{Entry:X}, instruction {Instruction:N0}", m.Module.Name ?? m.Module.FileGuid.ToString(), m.Module.Type, m.Entry, m.Instruction);
        console.Attach(machine, tracker, _stderr, statusLine: !o.Quiet && !o.NoStatus && _host.StderrIsTerminal);
        machine.Rebooted += r =>
        {
            _log.LogInformation(
                "machine reset ({Cause}) at instruction {Instruction:N0}, virtual {VirtualMs:F3} ms: {Detail}; boot {Boot} starts",
                ResetInfo.CauseName(r.Cause), r.Instruction, r.VirtualTime / 1e6, r.Detail, machine.Boot);
            tracker.BeginBoot(machine.Boot);
            recognizer.BeginBoot(machine.Boot);
            images.BeginBoot();
        };
        tracker.MilestoneReached += m => flashAt[m] = (
            machine.FlashChips.Where(c => !c.ReadOnly).Sum(c => c.BytesProgrammed), machine.FlashChips.Where(c => !c.ReadOnly).Sum(c => c.BlocksErased));
        tracker.MilestoneReached += m => _log.LogInformation(
            "milestone {Name,-9} at instruction {Instruction,13:N0}  address 0x{Address:X}  {Mode}-bit  virtual {VirtualMs,9:F3} ms  wall {WallMs:F0} ms",
            m.Name, m.Instruction, m.Address, m.Mode, m.VirtualNs / 1e6, m.WallMs);
        images.ImageStarted += i => _log.LogInformation("image started at 0x{Entry:X} ({Machine}, subsystem {Subsystem}): {Path}", i.Entry, i.Machine, i.Subsystem, i.DevicePath ?? "no device path");
        foreach (var (name, address) in addressMilestones)
        {
            _log.LogDebug("watching {Name} at 0x{Address:X}", name, address);
        }

        TraceWriter? trace = null;
        if (o.Trace != null)
        {
            trace = new TraceWriter(OpenOutput(o.Trace, "trace"), o.TraceLimit, string.Join(" ", files.Select(f => Path.GetFileName(f.Path))));
            cpu.Tracer = trace;
        }

        FlashWriteLog? flashLog = null;
        if (o.FlashLog != null)
        {
            flashLog = new FlashWriteLog(OpenOutput(o.FlashLog, "flash log"), () => cpu.InstructionCount);
            foreach (var chip in machine.FlashChips.Where(c => !c.ReadOnly))
            {
                flashLog.Watch(chip);
            }
        }

        SessionState Session() => SessionState.Capture(tracker, flashAt, console.Transcript, recognizer);
        Stop.Attach(cpu);
        using var gdbServer = o.Gdb != null ? Gdb.GdbServer.Listen(o.Gdb, _loggers.CreateLogger("emu.gdb.protocol")) : null;
        Gdb.GdbSession? gdb = null;
        if (gdbServer != null)
        {
            _log.LogInformation("gdb: listening on {Endpoint}{Wait}", gdbServer.Endpoint, o.GdbWait ? " (the CPU waits at the reset vector)" : string.Empty);
            _stderr.WriteLine($"emu: gdb server on {gdbServer.Endpoint}{(o.GdbWait ? ", waiting for gdb at the reset vector" : string.Empty)}");
            gdb = new Gdb.GdbSession(gdbServer, machine, recognizer, new Gdb.GdbMonitor(machine, tracker, recognizer).Execute, o.GdbWait, Stop, _loggers, _symbols, _replay);
        }

        StopReason reason;
        string? internalError = null;
        try
        {
            reason = StateSaving.Run(o, machine, tracker, Session, _log, gdb != null ? gdb.Run : null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // An emulator bug must not hide what the run found: report it as the stop reason.
            reason = StopReason.None;
            internalError = $"{e.GetType().Name}: {e.Message} at instruction {cpu.InstructionCount} (0x{cpu.LinearRip:X})";
            _log.LogError("internal error: {Error}", internalError);
        }
        finally
        {
            trace?.Dispose();
            flashLog?.Dispose();

            // Every completed operation reaches the file before the run is reported.
            foreach (var (_, writer) in stores)
            {
                writer?.Dispose();
            }
        }

        foreach (var (file, writer) in stores)
        {
            if (writer?.Failure is { } failure)
            {
                _log.LogError("the varstore '{File}' could not be saved: {Reason}", file.Path, failure.Message);
            }
        }

        // The report names one varstore: the last writable unit (the vars file when there is one).
        (VarstoreFile? File, FlashPersistence? Writer) varstore = stores.Count > 0 ? stores[^1] : (null, null);

        wall.Stop();
        console.Dispose();
        if (console.Script is { Done: false } script)
        {
            _log.LogWarning("serial script stopped at step {Step} of {Count}: {Waiting}", script.Completed + 1, script.Count, script.Waiting);
        }

        string stop = internalError != null ? "internalError" : reason switch
        {
            StopReason.Breakpoint when tracker.UntilReached => "until",
            StopReason.InstructionLimit => "limit",
            StopReason.Halted => "halted",
            StopReason.TripleFault => "tripleFault",
            StopReason.PowerOff => "powerOff",
            StopReason.Reset => "reset",
            StopReason.ResetLimit => "resetLimit",
            StopReason.Hang => "hang",
            StopReason.GuestExit => "guestExit",
            StopReason.Requested when Stop.Requested => "interrupted",
            _ => reason.ToString(),
        };
        var flashStore = machine.FlashChips.FirstOrDefault(c => !c.ReadOnly) is { } writable ? VarstoreImage.Parse(writable.Contents.ToArray()) : null;
        var scan = Stopwatch.StartNew();
        var secureBoot = ReportSecureBoot.Of(machine, flashStore is { IsUsable: true } ? flashStore : null);
        _log.LogDebug("Secure Boot state: {Stores} variable store header(s) in {Ram:N0} bytes of RAM, scanned in {Ms:F1} ms", secureBoot.Stores.Count, o.Memory, scan.Elapsed.TotalMilliseconds);
        var report = SessionReport.Build(o, machine, files, tracker, flashAt, wall, stop, console.Transcript) with
        {
            Varstore = varstore.File is { } vf ? VarstoreReport.Of(vf, varstore.Writer) : null,
            Modules = recognizer.Started.Select(m => new ModuleInfo(
                m.Module.Name, m.Module.FileGuid, m.Module.Type.ToString(), Hex.Format(m.HeaderAddress), Hex.Format(m.Entry), m.Instruction, m.VirtualNs / 1e6, m.Boot, m.Inside.Instructions)).ToList(),
            Variables = flashStore is { IsUsable: true } ? ReportVariables.Of(flashStore) : null,
            SecureBoot = secureBoot,
        };
        if (internalError != null)
        {
            report = report with { Stop = report.Stop with { Detail = internalError } };
        }

        StateSaving.SaveAtStop(o, machine, internalError == null, Session, _log);
        LogSummary(report, cpu, hang);
        Reason = reason;
        GuestExitStatus = machine.GuestExitStatus;
        UntilReached = tracker.UntilReached;
        Saved = stores.All(st => st.Writer?.Failure == null);
        InternalError = internalError;
        LiveInput = console.Live;
        return report;
    }

    private void LogSummary(RunReport r, Cpu cpu, HangDetector? hang)
    {
        _log.LogInformation(
            "stopped: {Reason} at {Address} after {Instructions:N0} instructions in {Wall:F2} s ({Mips:F1} MIPS){Detail}",
            r.Stop.Reason, r.Stop.Address, r.Instructions, r.WallSeconds, r.Mips, r.Stop.Detail is { } d ? ": " + d : string.Empty);
        _log.LogDebug("hang detector: {State}", hang is null ? "off" : $"the longest loop without progress ran {hang.LongestLoop:N0} instructions (a hang at {HangDetector.DefaultWindow:N0})");
        _log.LogDebug(
            "blocks built {Blocks:N0}, code page invalidations {Invalidations:N0}, host GC allocations {Allocated:N0} bytes",
            cpu.BlocksBuilt, cpu.CodePageInvalidations, GC.GetTotalAllocatedBytes());
        _log.LogDebug(
            "blocks compiled {Compiled:N0}, refused {Refused:N0}{Why} (block compiler{Off})",
            cpu.CompilerStatistics.Compiled, cpu.CompilerStatistics.Refused,
            cpu.CompilerStatistics.LastRefusal is { } why ? ", last: " + why : string.Empty,
            cpu.BlockCompilation ? string.Empty : " off: --interpret");
        foreach (var u in r.Unimplemented)
        {
            _log.LogWarning("unimplemented instruction {Code} executed {Count} time(s)", u.Code, u.Count);
        }

        if (r.Smm is { } smm && (smm.Entries > 0 || smm.RejectedFlashWrites > 0))
        {
            _log.LogInformation(
                "SMM: {Entries:N0} SMI(s), {Instructions:N0} instructions in SMM; flash writes from SMM {FromSmm:N0}, refused outside SMM {Refused:N0}",
                smm.Entries, smm.Instructions, smm.FlashWritesFromSmm, smm.RejectedFlashWrites);
        }

        if (r.SecureBoot is { } secureBoot)
        {
            _log.LogInformation("{SecureBoot}", ReportSecureBoot.Summary(secureBoot));
        }

        if (cpu.ExceptionCount > 0)
        {
            _log.LogWarning("{Count} guest exception(s); last vector {Vector}", cpu.ExceptionCount, cpu.LastException);
        }

        if (r.Unassigned.Count > 0)
        {
            _log.LogInformation("{Count} unassigned address(es) accessed (see the report)", r.Unassigned.Count);
        }
    }

    private static StreamWriter OpenOutput(string path, string what)
    {
        try
        {
            return new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false), 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UsageException($"cannot write {what} '{path}': {e.Message}");
        }
    }
}
