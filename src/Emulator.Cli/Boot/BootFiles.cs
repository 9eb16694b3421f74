using Emulator.Hosting.Inputs;

namespace Emulator.Cli.Boot;

/// <summary>The layout check of a boot's options (joins <see cref="FirmwareFiles"/> when the options record moves to the library).</summary>
public static class BootFiles
{
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
            FirmwareFiles.CheckLayout(o.Firmware != null ? [("firmware", code)] : o.Vars != null ? [("code", code), ("vars", o.Vars)] : [("code", code)]);
        }
    }

}
