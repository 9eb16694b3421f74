using Emulator.Core.Machine;
using Emulator.Hosting.Varstore;

namespace Emulator.Hosting.Inputs;

/// <summary>
/// What a file given to emu is for, and the sizes that role allows. <see cref="InputFile"/> checks
/// the size stat(2) reports against these rules before any byte is read, so a 1 GiB file is
/// refused by its size and an endless one never gets that far. The firmware rules are QEMU's, from
/// <see cref="FlashLayout"/> (their one source); the others bound what emu itself would ever write
/// or accept. docs/known-differences.md lists them all.
/// </summary>
public sealed class InputRole(string name, long maxBytes, string? limitReason, Action<string, ulong>? layoutRule)
{
    /// <summary><c>inspect</c>: the largest SPI flash parts on PC boards are 64 MiB.</summary>
    public const long MaxImageBytes = 64L << 20;

    /// <summary>A run report: <c>boot --report</c> writes a few MiB at most (its console text stops at 4 MiB).</summary>
    public const long MaxReportBytes = 64L << 20;

    /// <summary>What a <c>@FILE</c> of <c>--serial-input</c>/<c>--send</c> may type: far more than any console session.</summary>
    public const long MaxScriptBytes = 16L << 20;

    /// <summary>A firmware descriptor: Debian's are under 1 KiB.</summary>
    public const long MaxDescriptorBytes = 1L << 20;

    /// <summary>The file's role as messages name it: "{Name} file 'PATH' ...".</summary>
    public string Name { get; } = name;

    /// <summary>The largest file this role accepts.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <summary>
    /// A flash unit of the pc machine (code, vars, a unified image): QEMU's pc_system_flash_map
    /// rules for one image, a non-zero multiple of 4 KiB and at most the 8 MiB all units share.
    /// </summary>
    public static InputRole Flash(string name) => new(
        name, (long)FlashLayout.DefaultMaxFirmwareSize, null, (what, size) => FlashLayout.Place([(what, size)]));

    /// <summary>A <c>-bios</c> ROM: whole 64 KiB units, QEMU's x86_bios_rom_init rule.</summary>
    public static InputRole Bios(string name) => new(name, (long)FlashLayout.LargestMaxFirmwareSize, null, FlashLayout.CheckBiosSize);

    /// <summary>Any firmware image, for <c>inspect</c>.</summary>
    public static InputRole Image(string name) => new(name, MaxImageBytes, "no PC flash part is larger", null);

    /// <summary>A varstore for the <c>vars</c> commands: any size a flash can have (a damaged size is theirs to report).</summary>
    public static InputRole Varstore(string name) =>
        new(name, (long)FlashLayout.LargestMaxFirmwareSize, "no varstore can be larger than the 16 MiB of flash QEMU maps at most", null);

    /// <summary>The journal beside a persisted varstore (<see cref="VarstoreJournal"/>).</summary>
    public static InputRole Journal { get; } = new("journal", FlashPersistence.MaxJournalLength, "no emu journal grows larger: move it away", null);

    /// <summary>A run report read by <c>emu compare</c>.</summary>
    public static InputRole Report { get; } = new("report", MaxReportBytes, "no run report is that large", null);

    /// <summary>Data for <c>vars set --data-file</c>: no variable can be larger than a varstore.</summary>
    public static InputRole VariableData { get; } =
        new("variable data", (long)FlashLayout.LargestMaxFirmwareSize, "no variable can be larger than the 16 MiB of flash QEMU maps at most", null);

    /// <summary>A QEMU firmware descriptor (<c>/usr/share/qemu/firmware/*.json</c>): a page of JSON; 1 MiB is far beyond any.</summary>
    public static InputRole Descriptor { get; } = new("firmware descriptor", MaxDescriptorBytes, "no firmware descriptor is that large", null);

    /// <summary>An SMBIOS OEM string read from a file (<c>--oem-string @FILE</c>, QEMU's <c>-smbios type=11,path=FILE</c>).</summary>
    public static InputRole OemString { get; } =
        new("SMBIOS OEM string", Core.Platform.Smbios.SmbiosEntryPoint.MaxTableLength, "no SMBIOS 2.x table set can hold more (QEMU's SMBIOS_21_MAX_TABLES_LEN)", null);

    /// <summary>The bytes of <c>--serial-input @FILE</c> or <c>--send @FILE</c> (<paramref name="option"/>).</summary>
    public static InputRole Script(string option) => new(option, MaxScriptBytes, "more than any console session types", null);

    /// <summary>"{Name} file 'PATH'": how every message names the file.</summary>
    public string Describe(string path) => $"{Name} file '{path}'";

    /// <summary>One-line <see cref="UsageException"/> when <paramref name="size"/> breaks this role's rules.</summary>
    public void CheckSize(string path, long size)
    {
        string what = Describe(path);
        if (layoutRule != null)
        {
            try
            {
                layoutRule(what, (ulong)size);
            }
            catch (FirmwareLayoutException e)
            {
                throw new UsageException(e.Message);
            }
        }

        if (size > MaxBytes)
        {
            throw new UsageException($"{what} is {size} bytes: more than the {MaxBytes} bytes a {Name} file may have ({limitReason})");
        }
    }
}
