using System.Security.Cryptography;
using Emulator.Core.Machine;
using Emulator.Firmware;
using Emulator.Hosting.Compat;
using Emulator.Hosting.Vars;

namespace Emulator.Hosting.Boot;

/// <summary>
/// <c>boot --save-state</c> and <c>boot --restore</c> around the state file
/// (<see cref="MachineStateFile"/>): loading with one-line refusals, filling in the firmware the
/// state came from, the migration rules when other files are named, and crash-safe saving.
/// </summary>
public static class StateFiles
{
    /// <summary>Reads the state file; anything wrong with it is bad input (exit 2), before any file is touched.</summary>
    public static MachineStateFile.Loaded Load(string path)
    {
        try
        {
            var loaded = MachineStateFile.Read(path);
            if (loaded.Meta.MachineType != MachineSnapshot.PcI440fx)
            {
                loaded.Snapshot.Dispose();
                throw new UsageException($"state file '{path}' is for machine type '{loaded.Meta.MachineType}'; emu runs {MachineSnapshot.PcI440fx}");
            }

            return loaded;
        }
        catch (StateFileException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// The options of a restore: the firmware files the state came from unless others are named,
    /// the state's RAM size (another <c>--memory</c> is refused), and the milestone asked for
    /// not one the saved run already reached.
    /// </summary>
    public static BootOptions ForRestore(BootOptions o, MachineStateFile.Loaded state)
    {
        var meta = state.Meta;
        if (o.MemoryGiven && o.Memory != meta.RamSize)
        {
            throw new UsageException($"the state has {meta.RamSize} bytes of RAM; --memory asks for {o.Memory} (a restore keeps the machine's RAM size)");
        }

        if (o.Until != null && SessionState.FromJson(state.Session)?.Milestones.FirstOrDefault(m => m.Milestone.Name == o.Until) is { } reached)
        {
            throw new UsageException($"milestone '{o.Until}' was already reached in the saved run (instruction {reached.Milestone.Instruction}); pick a later one");
        }

        o = o with { Memory = meta.RamSize, Restored = state };
        if (o.Code != null || o.Firmware != null || o.Vm != null)
        {
            return o;
        }

        // --vars alone names where the varstore goes on; the code is the state's.
        return meta.Flash.Count == 1 && o.Vars == null
            ? o with { Firmware = meta.Flash[0].Name }
            : o with { Code = meta.Flash[0].Name, Vars = o.Vars ?? (meta.Flash.Count > 1 ? meta.Flash[1].Name : null) };
    }

    /// <summary>
    /// Migration onto the files of this boot (QEMU refuses a pflash of another size on incoming
    /// migration: hw/block/pflash_cfi01.c, the RAM block's length check in migration/ram.c): a
    /// different number of flash units or a unit of another size is refused with one line naming
    /// it. Same sizes with other CODE bytes are allowed — the guest keeps running the code it was
    /// saved with (flash contents travel in the state, as QEMU's pflash RAM block does) and meets
    /// the new CODE at its next cold boot; the lines returned say what that boot will find (the
    /// <c>compat</c> verdict of the new CODE against the migrated VARS). None when the files are the state's own.
    /// </summary>
    public static IReadOnlyList<string> CheckMigration(MachineStateFile.Loaded state, IReadOnlyList<FlashImage> files)
    {
        var saved = state.Meta.Flash;
        if (files.Count != saved.Count)
        {
            throw new UsageException($"the state was saved with {saved.Count} flash unit(s); this boot maps {files.Count}: restore refused");
        }

        for (int unit = 0; unit < saved.Count; unit++)
        {
            if ((ulong)files[unit].Contents.Length != saved[unit].Size)
            {
                throw new UsageException(
                    $"flash unit {unit} differs: the state has {saved[unit].Size} bytes ({saved[unit].Name}), '{files[unit].Name}' is {files[unit].Contents.Length}: restore refused (a migration keeps the flash layout)");
            }
        }

        string code = Convert.ToHexStringLower(SHA256.HashData(files[0].Contents));
        if (code == saved[0].Sha256 || !saved[0].ReadOnly || saved.Count < 2)
        {
            return [];
        }

        var lines = new List<string>
        {
            $"migration: '{files[0].Name}' is other code than the state was saved with ({saved[0].Name}, same size); the guest runs its saved code until its next cold boot, which starts '{files[0].Name}' with the migrated VARS:",
        };
        FirmwareImage? image;
        try
        {
            image = Caching.CachedFirmware.Parse(files[0].Contents);
        }
        catch (FirmwareFormatException)
        {
            image = null;
        }

        var verdict = image is null ? null : CompatibilityCheck.Evaluate(image, state.Snapshot.Flash[1]);
        lines.AddRange(verdict is null
            ? ["  the new code carries no OVMF varstore template: nothing to judge"]
            : CompatibilityCheck.Describe(verdict, files[0].Name, files[1].Name).Select(l => "  " + l));
        return lines;
    }

    /// <summary>
    /// Writes the machine and the session to <paramref name="path"/> crash-safely: a temporary
    /// file in the same directory, fsync, rename over the target, fsync of the directory.
    /// </summary>
    internal static void Save(string path, PcMachine machine, SessionState session)
    {
        using var snapshot = machine.SaveSnapshot();
        var named = snapshot with { FlashLayout = snapshot.FlashLayout.Select(p => p with { Name = Path.GetFullPath(p.Name) }).ToList() };
        using var buffer = new MemoryStream();
        MachineStateFile.Write(buffer, named, machine.FlashChips.Select(c => c.ReadOnly).ToList(), session.ToJson());
        VarsFiles.WriteNew(path, buffer.ToArray(), force: true);
    }

    /// <summary>
    /// The machine of a restore runs what the state holds (flash contents travel with it, as
    /// QEMU's pflash RAM block does); the files are where it persists. Says first what a
    /// migration onto other CODE means (<see cref="CheckMigration"/>).
    /// </summary>
    internal static void TakeFlashFromState(MachineStateFile.Loaded state, List<FlashImage> flash, TextWriter stderr)
    {
        foreach (string line in CheckMigration(state, flash))
        {
            stderr.WriteLine(line);
        }

        for (int unit = 0; unit < flash.Count; unit++)
        {
            flash[unit] = flash[unit] with { Contents = state.Snapshot.Flash[unit] };
        }
    }

    /// <summary>Restores the state onto the machine just built; a state that does not fit it is bad input.</summary>
    internal static void RestoreInto(PcMachine machine, BootOptions o)
    {
        if (o.Restored is not { } state)
        {
            return;
        }

        try
        {
            machine.Restore(state.Snapshot);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            machine.Dispose();
            throw new UsageException($"state file '{o.Restore}' does not fit this machine: {e.Message.Split(" (Parameter")[0]}");
        }
    }

    /// <summary>
    /// A restored varstore whose file holds other bytes (another copy, or the template) gets the
    /// state's contents through the journal, as QEMU writes a migrated pflash to its backing file
    /// (hw/block/pflash_cfi01.c, postload_update_cb): the file then holds what the guest sees.
    /// </summary>
    internal static void PersistMigratedContents(BootOptions o, Varstore.VarstoreFile file, Core.Devices.CfiFlash.CfiFlash chip, Varstore.FlashPersistence persistence)
    {
        if (o.Restored != null && !file.Bytes.AsSpan().SequenceEqual(chip.Contents))
        {
            persistence.Written(chip, Core.Devices.CfiFlash.FlashWriteKind.Program, 0, (int)chip.Size);
        }
    }
}
