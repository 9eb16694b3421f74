using Emulator.Core.Devices;

namespace Emulator.Core.Platform.Acpi;

/// <summary>
/// The ACPI fw_cfg files as QEMU keeps them (hw/i386/acpi-build.c acpi_setup, acpi_build_update,
/// acpi_build_reset): built once when the machine is assembled so their sizes are known, then
/// rebuilt in place the first time the guest selects any of them after each reset, so the tables
/// capture what the firmware programmed before it read them — the PM I/O base that the FADT's
/// register blocks point into and, on q35, the ECAM window the MCFG describes. The buffers never change size (both padded files have
/// room), so the fw_cfg directory stays as published. A device of the machine ("acpi-build", as
/// QEMU's vmstate "acpi_build" carries the patched flag) so that resets and snapshots reach it.
/// </summary>
public sealed class AcpiBuildState : IDevice
{
    private readonly AcpiPlatform _platform;
    private readonly Func<AcpiBoardRegisters> _registers;
    private bool _patched;

    /// <param name="platform">The machine's facts.</param>
    /// <param name="pmBase">Reads the PM I/O base the guest programmed (0 while disabled).</param>
    public AcpiBuildState(AcpiPlatform platform, Func<ushort> pmBase)
        : this(platform, () => new AcpiBoardRegisters(pmBase(), null))
    {
    }

    /// <param name="platform">The machine's facts.</param>
    /// <param name="registers">Reads the board registers the tables depend on, as the guest programmed them.</param>
    public AcpiBuildState(AcpiPlatform platform, Func<AcpiBoardRegisters> registers)
    {
        _platform = platform;
        _registers = registers;
        var first = AcpiTableBuilder.Build(platform, registers());
        Tables = first.Tables;
        Rsdp = first.Rsdp;
        Loader = first.Loader;
        TablesUsed = first.TablesUsed;
    }

    /// <summary>The <c>etc/acpi/tables</c> contents (this array is what fw_cfg serves).</summary>
    public byte[] Tables { get; }

    /// <summary>The <c>etc/acpi/rsdp</c> contents.</summary>
    public byte[] Rsdp { get; }

    /// <summary>The <c>etc/table-loader</c> contents.</summary>
    public byte[] Loader { get; }

    /// <summary>Bytes of <see cref="Tables"/> the last build used.</summary>
    public int TablesUsed { get; private set; }

    /// <summary>Builds performed at guest selects (not counting the one at construction).</summary>
    public int Rebuilds { get; private set; }

    /// <summary>The fw_cfg select hook of all three files: rebuild once per boot, at the first select.</summary>
    public void Selected()
    {
        if (_patched)
        {
            return;
        }

        _patched = true;
        var build = AcpiTableBuilder.Build(_platform, _registers());
        if (build.Tables.Length != Tables.Length || build.Rsdp.Length != Rsdp.Length || build.Loader.Length != Loader.Length)
        {
            throw new InvalidOperationException("an ACPI rebuild changed a fw_cfg file's size");
        }

        build.Tables.CopyTo(Tables, 0);
        build.Rsdp.CopyTo(Rsdp, 0);
        build.Loader.CopyTo(Loader, 0);
        TablesUsed = build.TablesUsed;
        Rebuilds++;
    }

    public string Name => "acpi-build";

    /// <summary>Machine reset (QEMU acpi_build_reset): the next select rebuilds again.</summary>
    public void Reset() => _patched = false;

    /// <summary>The patched flag and the three files as the last build left them (they depend on the PM base of that moment).</summary>
    public DeviceState SaveState() => new AcpiBuildDeviceState(_patched, [.. Tables], [.. Rsdp], [.. Loader], TablesUsed, Rebuilds);

    public void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<AcpiBuildDeviceState>(state, this);
        if (s.Tables.Length != Tables.Length || s.Rsdp.Length != Rsdp.Length || s.Loader.Length != Loader.Length)
        {
            throw new ArgumentException("the saved ACPI files differ in size from this machine's", nameof(state));
        }

        _patched = s.Patched;
        s.Tables.CopyTo(Tables, 0);
        s.Rsdp.CopyTo(Rsdp, 0);
        s.Loader.CopyTo(Loader, 0);
        TablesUsed = s.TablesUsed;
        Rebuilds = s.Rebuilds;
    }
}

/// <summary>Whether this boot's rebuild happened, the three fw_cfg files' bytes, the bytes of tables used and the rebuild count.</summary>
public sealed record AcpiBuildDeviceState(bool Patched, byte[] Tables, byte[] Rsdp, byte[] Loader, int TablesUsed, int Rebuilds) : DeviceState;
