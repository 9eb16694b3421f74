using Emulator.Core.Devices;
using Emulator.Core.Memory;

namespace Emulator.Core.Machine;

/// <summary>
/// Whole-machine snapshots (<see cref="MachineSnapshot"/>): saving at an instruction boundary
/// (between runs), restoring onto this machine, and building a new machine from a snapshot
/// without reading any file. Restoring costs one RAM mapping (<see cref="GuestRam.Restore"/>)
/// plus the small device and flash state, so a host can keep a snapshot and go back to it often
/// (reverse execution, fault-injection runs).
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>The machine as it stands now (call between runs, never from inside one).</summary>
    public MachineSnapshot SaveSnapshot() => new()
    {
        RamSize = Options.RamSize,
        FlashLayout = FlashPlacements,
        Cpu = Cpu.SaveState(),
        Devices = SaveDeviceStates().Select(d => new NamedDeviceState(d.Name, d.State)).ToList(),
        Scheduler = Scheduler.SaveState(),
        BusyWait = WaitSkipper.SaveState(),
        PortAccesses = Ports.AccessCount,
        Run = new MachineRunState(Boot, [.. _resets], _pendingReset?.Cause, _pendingReset?.Detail),
        Unassigned = Bus.Unassigned.SaveState(),
        Ram = _ram.Capture(),
        Flash = _flash.Select(chip => chip.Contents.ToArray()).ToList(),
    };

    /// <summary>
    /// Makes this machine what <paramref name="snapshot"/> recorded. The machine must have the
    /// same RAM size and flash layout, and devices with the same names; a snapshot that lacks a
    /// device of this machine, or names one it does not have, is refused
    /// (<see cref="ArgumentException"/>) before anything changes. The CPU comes last: device
    /// restores may remap memory, which flushes the CPU's caches, and the CPU's restore sets up
    /// the code-cache shape the run continues with.
    /// </summary>
    public void Restore(MachineSnapshot snapshot)
    {
        CheckCompatible(snapshot);
        Scheduler.Clear();
        _ram.Restore(snapshot.Ram);
        for (int unit = 0; unit < _flash.Count; unit++)
        {
            _flash[unit].RestoreContents(snapshot.Flash[unit]);
        }

        RestoreDeviceStates(snapshot.Devices.Select(d => (d.Name, d.State)).ToList());

        WaitSkipper.RestoreState(snapshot.BusyWait);
        Ports.AccessCount = snapshot.PortAccesses;
        Bus.Unassigned.RestoreState(snapshot.Unassigned);
        Scheduler.RestoreOrder(snapshot.Scheduler);
        Boot = snapshot.Run.Boot;
        _resets.Clear();
        _resets.AddRange(snapshot.Run.Resets);
        _pendingReset = snapshot.Run.PendingResetCause is { } cause ? (cause, snapshot.Run.PendingResetDetail ?? string.Empty) : null;
        _stopDetail = null;
        Cpu.RestoreState(snapshot.Cpu);
    }

    /// <summary>
    /// A new machine continuing from <paramref name="snapshot"/>: built from <paramref name="options"/>
    /// (the board — chipset, SMM, CPU model — and its host attachments: serial backends, debug
    /// console, reboot policy, the media of the IDE and virtio drives) with the snapshot's RAM
    /// size and flash contents in place of any files, then restored. The media are the caller's:
    /// they must hold what they held when the snapshot was taken.
    /// </summary>
    public static PcMachine FromSnapshot(MachineSnapshot snapshot, MachineOptions options)
    {
        var flash = snapshot.FlashLayout.Select(p => new FlashImage(
            p.Name, snapshot.Flash[p.Unit], options.Flash.Count > p.Unit && options.Flash[p.Unit].ReadOnly)).ToList();
        var machine = new PcMachine(new MachineOptions
        {
            RamSize = snapshot.RamSize,
            Chipset = options.Chipset,
            Smm = options.Smm,
            DisableS3 = options.DisableS3,
            SecureFlash = options.SecureFlash,
            CpuModel = options.CpuModel,
            SmmSaveMap32 = options.SmmSaveMap32,
            Flash = flash,
            MaxFirmwareSize = options.MaxFirmwareSize,
            UnassignedReadsZero = options.UnassignedReadsZero,
            SkipBusyWaits = options.SkipBusyWaits,
            SerialPorts = options.SerialPorts,
            Hpet = options.Hpet,
            RtcStart = options.RtcStart,
            NoReboot = options.NoReboot,
            MaxResets = options.MaxResets,
            DebugConsoleOutput = options.DebugConsoleOutput,
            DebugConsolePort = options.DebugConsolePort,
            DebugExit = options.DebugExit,
            SmbiosOemStrings = options.SmbiosOemStrings,
            IdeDrives = options.IdeDrives,
            VirtioDrives = options.VirtioDrives,
            AbsentDefaultPciSlots = options.AbsentDefaultPciSlots,
        });
        try
        {
            machine.Restore(snapshot);
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    private void CheckCompatible(MachineSnapshot snapshot)
    {
        if (snapshot.RamSize != Options.RamSize)
        {
            throw new ArgumentException($"the snapshot has {snapshot.RamSize} bytes of RAM, this machine {Options.RamSize}", nameof(snapshot));
        }

        if (!snapshot.FlashLayout.Select(p => (p.Unit, p.Base, p.Size)).SequenceEqual(FlashPlacements.Select(p => (p.Unit, p.Base, p.Size))))
        {
            throw new ArgumentException("the snapshot's flash layout differs from this machine's", nameof(snapshot));
        }

        var names = Devices.Select(d => d.Name).ToHashSet();
        var saved = snapshot.Devices.Select(d => d.Name).ToHashSet();
        if (names.Except(saved).FirstOrDefault() is { } missing)
        {
            throw new ArgumentException($"the snapshot has no state for device '{missing}'", nameof(snapshot));
        }

        if (saved.Except(names).FirstOrDefault() is { } extra)
        {
            throw new ArgumentException($"the snapshot has state for a device this machine lacks: '{extra}'", nameof(snapshot));
        }
    }
}
