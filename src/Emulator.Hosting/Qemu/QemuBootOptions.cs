using Emulator.Hosting.Boot;
using Emulator.Hosting.Serial;

namespace Emulator.Hosting.Qemu;

/// <summary>A QEMU command line (<see cref="QemuConfig"/>) as the options of a <see cref="BootSession"/> with QEMU's behaviour.</summary>
public static class QemuBootOptions
{
    /// <summary>Set to 1, a CODE/VARS mismatch is refused (exit 1) instead of only warned about.</summary>
    public const string RefuseMismatchVariable = "EMU_REFUSE_VARS_MISMATCH";

    /// <summary>The boot options that run <paramref name="c"/>: flash units, ports, pacing, power.</summary>
    public static BootOptions From(QemuConfig c)
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
            DebugExit = c.DebugExit,
            OemStrings = c.OemStrings,
            Drives = [.. c.IdeDrives, .. c.VirtioDrives],
            AbsentDefaultPciSlots = c.AbsentDefaultPciSlots,
            BootDevices = c.Boot,
            Pace = c.NoSleep ? BootOptions.PaceOff : BootOptions.PaceRealTime,
            NoStatus = true,
            Quiet = true,
            NoReboot = c.NoReboot,
            NoHpet = c.NoHpet,
            Chipset = c.Chipset,
            Smm = c.Smm,
            SecureFlash = c.SecureFlash,
            DisableS3 = c.DisableS3,
            Cpu = c.Cpu,
            SmmSaveMap32 = c.I386,

            // QEMU reboots for ever, and spins in a hung guest for ever; a reset loop or a dead
            // loop is the harness's to time out, as with QEMU.
            MaxResets = int.MaxValue,
            HangDetection = false,
            Gdb = c.Gdb,
            GdbWait = c.GdbWait,
            Qemu = new QemuBehaviour(c.NoShutdown, RefuseMismatch: Environment.GetEnvironmentVariable(RefuseMismatchVariable) == "1"),
        };
    }
}
