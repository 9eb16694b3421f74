using System.Buffers.Binary;
using Emulator.Core.Devices.FwCfg;

namespace Emulator.Core.Machine;

/// <summary>
/// What the machine tells the firmware through fw_cfg, with the values QEMU 7.2's pc machine
/// gives one CPU (hw/i386/fw_cfg.c fw_cfg_arch_create, hw/i386/pc.c pc_memory_init, traced with
/// <c>-trace fw_cfg_read</c>): signature, ID (traditional + DMA), a zero UUID, RAM size, no
/// graphics, one boot CPU of one possible, boot menu off, <c>etc/e820</c>,
/// <c>etc/system-states</c> and the ACPI files (<see cref="AddAcpiFiles"/>). Kernel-loader items
/// are absent and read 0, as QEMU's without -kernel.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>E820 entry types (ACPI 6.4 §15 address range types).</summary>
    public const uint E820Ram = 1;
    public const uint E820Reserved = 2;

    /// <summary>AMD's HyperTransport hole below 1 TiB, reserved by QEMU for AMD CPUs with ≥ 40 physical bits.</summary>
    public const ulong AmdHyperTransportStart = 0xFD_0000_0000;
    public const ulong AmdHyperTransportSize = 0x3_0000_0000;

    private const int E820EntrySize = 20;

    /// <summary>
    /// <c>etc/system-states</c> as QEMU's PIIX4 PM publishes it (acpi_pm1_cnt / piix4_pm "system
    /// states" with disable_s3 = disable_s4 = 0, s4_val = 2): one byte per S0–S5, bit 7 = state
    /// valid, low bits = the SLP_TYP value. S1 and S2 are not offered.
    /// </summary>
    public static readonly byte[] SystemStates = [0x80, 0x00, 0x00, 0x81, 0x82, 0x80];

    public FwCfg FwCfg { get; private set; } = null!;

    /// <summary>The e820 map QEMU 7.2 publishes for this RAM size, in QEMU's order.</summary>
    public IReadOnlyList<(ulong Base, ulong Length, uint Type)> E820Map()
    {
        var map = new List<(ulong, ulong, uint)>();

        // pc_memory_init: an AMD CPU model with ≥ 40 physical bits gets the HyperTransport
        // range reserved first, then RAM below 4 GiB, then RAM above it.
        if (Cpu.Model.IsAmd && Cpu.Model.PhysicalAddressBits >= 40)
        {
            map.Add((AmdHyperTransportStart, AmdHyperTransportSize, E820Reserved));
        }

        map.Add((0, LowRamSize, E820Ram));
        if (HighRamSize > 0)
        {
            map.Add((FlashLayout.FourGiB, HighRamSize, E820Ram));
        }

        return map;
    }

    private void WireFwCfg()
    {
        FwCfg = new FwCfg(Bus);
        FwCfg.AddBytes(FwCfg.UuidKey, new byte[16]);
        FwCfg.AddUInt64(FwCfg.RamSizeKey, LowRamSize + HighRamSize);
        FwCfg.AddUInt16(FwCfg.NoGraphicKey, 1);
        FwCfg.AddUInt16(FwCfg.NbCpusKey, 1);
        FwCfg.AddUInt16(FwCfg.MaxCpusKey, 1);
        FwCfg.AddUInt16(FwCfg.BootMenuKey, 0);

        var map = E820Map();
        var e820 = new byte[map.Count * E820EntrySize];
        for (int i = 0; i < map.Count; i++)
        {
            var entry = e820.AsSpan(i * E820EntrySize, E820EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(entry, map[i].Base);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], map[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], map[i].Type);
        }

        FwCfg.AddFile("etc/e820", e820);
        FwCfg.AddFile("etc/system-states", SystemStates);
        AddAcpiFiles();
        Ports.Register(FwCfg.BasePort, FwCfg.PortCount, FwCfg);
        Ports.Register(FwCfg.DmaBasePort, FwCfg.DmaPortCount, FwCfg.DmaPort);
    }
}
