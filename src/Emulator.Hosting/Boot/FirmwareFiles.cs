using System.Security.Cryptography;
using Emulator.Core.Machine;
using Emulator.Hosting.Inputs;
using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Boot;

/// <summary>
/// The user's firmware files: the one size-and-layout verdict that <c>boot</c>, <c>compat</c>,
/// <c>compare</c>, <c>matrix</c> and the QEMU drop-in all give, and the bounded reading of each file.
/// </summary>
public static class FirmwareFiles
{
    /// <summary>
    /// Checks the flash units a run would map — unit 0 (code or a unified image) and unit 1 (the
    /// varstore) when given — before any byte is read: each a regular file of a size QEMU's pc
    /// machine accepts, together within its 8 MiB (<see cref="FlashLayout.Place"/>, the rules the
    /// machine itself applies). One-line <see cref="UsageException"/> otherwise.
    /// </summary>
    public static void CheckLayout(IReadOnlyList<(string Role, string Path)> units)
    {
        var sized = units.Select(u => (InputRole.Flash(u.Role).Describe(u.Path), (ulong?)(ulong)InputFile.Check(InputRole.Flash(u.Role), u.Path))).ToList();
        try
        {
            FlashLayout.Place(sized);
        }
        catch (FirmwareLayoutException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// A boot's files, checked before a byte is read: the <c>-bios</c> ROM, or the flash units —
    /// the unified image alone, or the code and its varstore when given.
    /// </summary>
    public static void CheckLayout(BootOptions o)
    {
        if (o.Bios != null)
        {
            InputFile.Check(InputRole.Bios("bios"), o.Bios);
        }
        else
        {
            // The CLI fills in the firmware of a boot that names none (DefaultFirmware.Resolve) before this.
            string code = o.Firmware ?? o.Code ?? throw new UsageException("no firmware given: use --code FILE [--vars FILE] or --firmware FILE");
            CheckLayout(o.Firmware != null ? [("firmware", code)] : o.Vars != null ? [("code", code), ("vars", o.Vars)] : [("code", code)]);
        }
    }

    /// <summary>Reads a checked file (<see cref="InputFile.Read"/>) and describes it for the report.</summary>
    public static (byte[] Bytes, FirmwareFileInfo Info) Load(InputRole role, string path)
    {
        byte[] bytes = InputFile.Read(role, path);
        return (bytes, Describe(role.Name, path, bytes));
    }

    /// <summary>The report's record of an input file: its role, full path, size and SHA-256 of the bytes the machine starts from.</summary>
    public static FirmwareFileInfo Describe(string role, string path, byte[] bytes) =>
        new(role, Path.GetFullPath(path), bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
}
