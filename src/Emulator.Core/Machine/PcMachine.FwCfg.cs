using System.Buffers.Binary;
using Emulator.Core.Devices.FwCfg;
using Emulator.Core.Platform;
using Emulator.Core.Platform.Smbios;

namespace Emulator.Core.Machine;

/// <summary>
/// What the machine tells the firmware through fw_cfg, with the values QEMU 7.2's pc machine
/// gives one CPU (hw/i386/fw_cfg.c fw_cfg_arch_create, hw/i386/pc.c pc_memory_init, traced with
/// <c>-trace fw_cfg_read</c>): signature, ID (traditional + DMA), a zero UUID, RAM size, no
/// graphics, one boot CPU of one possible, boot menu off, the files <c>etc/e820</c> and
/// <c>etc/system-states</c>, the ACPI files (<see cref="AddAcpiFiles"/>) and QEMU's other defaults
/// (<see cref="AddQemuDefaults"/>: the SMBIOS tables, the empty boot order and the rest of its
/// item list, docs/fw-cfg.md). Kernel-loader items are absent and read 0, as QEMU's without -kernel.
/// On q35 the same list plus ICH9's SMI feature files (<see cref="SmiFeatures"/>), with the Q35
/// machine's SMBIOS names (measured against QEMU 7.2, docs/fw-cfg.md "q35").
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

    /// <summary>QEMU's full name of the pc machine type (<c>pc</c> is its alias), which SMBIOS reports as the version.</summary>
    public const string MachineTypeName = "pc-i440fx-7.2";

    /// <summary>QEMU's full name of the q35 machine type (<c>q35</c> is its alias).</summary>
    public const string Q35MachineTypeName = "pc-q35-7.2";

    /// <summary>QEMU's description of each board (mc->desc, hw/i386/pc_piix.c and pc_q35.c), SMBIOS type 1's product name.</summary>
    public const string I440fxProductName = "Standard PC (i440FX + PIIX, 1996)";
    public const string Q35ProductName = "Standard PC (Q35 + ICH9, 2009)";

    /// <summary>The system UUID, as fw_cfg (RFC 4122 byte order) and SMBIOS type 1 give it: none, as QEMU without <c>-uuid</c>.</summary>
    public static readonly Guid SystemUuid = Guid.Empty;

    /// <summary>The one CPU; also the APIC ID limit QEMU reports as max_cpus (IDs 0 to count − 1).</summary>
    private const ushort BootCpus = 1;

    // QEMU's fw_cfg keys beyond the device's own (include/standard-headers/linux/qemu_fw_cfg.h
    // FW_CFG_NUMA; hw/i386/fw_cfg.h for the x86 arch-local ones).
    private const ushort NumaKey = 0x0D;
    private const ushort AcpiTablesKey = FwCfg.ArchLocal + 0;
    private const ushort Irq0OverrideKey = FwCfg.ArchLocal + 2;
    private const ushort HpetKey = FwCfg.ArchLocal + 4;

    /// <summary>
    /// <c>etc/system-states</c> as QEMU's PIIX4 PM publishes it (acpi_pm1_cnt / piix4_pm "system
    /// states" with disable_s3 = disable_s4 = 0, s4_val = 2): one byte per S0–S5, bit 7 = state
    /// valid, low bits = the SLP_TYP value. S1 and S2 are not offered.
    /// </summary>
    public static readonly byte[] SystemStates = [0x80, 0x00, 0x00, 0x81, 0x82, 0x80];

    /// <summary>S3's byte when <c>disable_s3</c> is set: SLP_TYP 1 kept, bit 7 (offered) clear (hw/acpi/core.c acpi_pm1_cnt_init; measured on q35: 80 00 00 01 82 80).</summary>
    private const byte S3NotOffered = 0x01;

    public FwCfg FwCfg { get; private set; } = null!;

    /// <summary>ICH9's SMI feature negotiation on q35 (present whether or not SMM is on, as on QEMU 7.2); null on pc.</summary>
    public SmiFeatureNegotiation? SmiFeatures { get; private set; }

    /// <summary>QEMU's full machine type name for this board (SMBIOS version, firmware descriptors).</summary>
    public string MachineType => Options.Chipset == PcChipset.Q35 ? Q35MachineTypeName : MachineTypeName;

    /// <summary>
    /// <c>etc/system-states</c> for this machine: QEMU's default, or with S3 not offered under
    /// <see cref="MachineOptions.DisableS3"/> (ICH9-LPC.disable_s3 / PIIX4_PM.disable_s3).
    /// </summary>
    public byte[] OfferedSystemStates()
    {
        byte[] states = [.. SystemStates];
        if (Options.DisableS3)
        {
            states[3] = S3NotOffered;
        }

        return states;
    }

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

    /// <summary>
    /// QEMU 7.2's pc defaults beyond the boot essentials (docs/fw-cfg.md): the NUMA item with no
    /// nodes (a node count, then a node per APIC ID, all zero), no legacy <c>-acpitable</c> data,
    /// IRQ0 routed to GSI 2, the HPET item, the empty <c>bootorder</c> and <c>bios-geometry</c>
    /// (no bootindex devices), <c>etc/boot-fail-wait</c>, and the SMBIOS tables. QEMU's
    /// <c>genroms/kvmvapic.bin</c> is its own option ROM, which OVMF never reads: not served.
    /// </summary>
    private void AddQemuDefaults()
    {
        FwCfg.AddBytes(NumaKey, new byte[sizeof(ulong) * (1 + BootCpus)]);
        FwCfg.AddBytes(AcpiTablesKey, []);
        FwCfg.AddUInt32(Irq0OverrideKey, 1);
        FwCfg.AddBytes(HpetKey, HpetFwCfgItem.Encode(HpetBlocks));
        FwCfg.AddFile("bios-geometry", []);
        FwCfg.AddFile("bootorder", []);
        // hw/nvram/fw_cfg.c fw_cfg_reboot and fw_cfg_bootsplash (-boot reboot-timeout=, splash-time=).
        FwCfg.AddFile("etc/boot-fail-wait", BitConverter.GetBytes(Options.RebootTimeout));
        if (Options.BootMenuWait is ushort wait)
        {
            FwCfg.AddFile("etc/boot-menu-wait", BitConverter.GetBytes(wait));
        }

        var cpuid1 = Cpu.Model.Query(1, 0);
        var smbios = BuildSmbios(new SmbiosPlatform
        {
            // hw/i386/pc_piix.c pc_init1 and pc_q35.c pc_q35_init: smbios_set_defaults("QEMU",
            // mc->desc, mc->name); the name is also the version of types 3 and 4.
            Manufacturer = "QEMU",
            Product = Options.Chipset == PcChipset.Q35 ? Q35ProductName : I440fxProductName,
            Version = MachineType,
            Uuid = SystemUuid,
            ProcessorSignature = cpuid1.Eax,
            ProcessorFeatures = cpuid1.Edx,
            ProcessorSpeedMhz = 2000,   // QEMU's DEFAULT_CPU_SPEED, whatever the host or the virtual clock
            Sockets = BootCpus,
            CoresPerSocket = 1,
            ThreadsPerSocket = 1,
            RamSize = LowRamSize + HighRamSize,
            RamRanges = RamRanges(),
            OemStrings = Options.SmbiosOemStrings,
        });
        FwCfg.AddFile("etc/smbios/smbios-anchor", smbios.EntryPoint);
        FwCfg.AddFile("etc/smbios/smbios-tables", smbios.Structures);
    }

    /// <summary>
    /// The e820 map's RAM entries, by a loop: LINQ over its tuples is JIT-compiled framework code
    /// (no ReadyToRun for generics over value types) on every start's path to the reset vector.
    /// </summary>
    private (ulong Base, ulong Length)[] RamRanges()
    {
        var map = E820Map();
        int count = 0;
        for (int i = 0; i < map.Count; i++)
        {
            count += map[i].Type == E820Ram ? 1 : 0;
        }

        var ranges = new (ulong Base, ulong Length)[count];
        for (int i = 0, at = 0; i < map.Count; i++)
        {
            if (map[i].Type == E820Ram)
            {
                ranges[at++] = (map[i].Base, map[i].Length);
            }
        }

        return ranges;
    }

    private static SmbiosTables BuildSmbios(SmbiosPlatform platform)
    {
        try
        {
            return SmbiosTables.Build(platform);
        }
        catch (SmbiosLimitException e)
        {
            throw new MachineConfigurationException(e.Message);
        }
    }

    private void WireFwCfg()
    {
        FwCfg = AddDevice(new FwCfg(Bus));
        FwCfg.AddBytes(FwCfg.UuidKey, SystemUuid.ToByteArray(bigEndian: true));
        FwCfg.AddUInt64(FwCfg.RamSizeKey, LowRamSize + HighRamSize);
        FwCfg.AddUInt16(FwCfg.NoGraphicKey, 1);
        FwCfg.AddUInt16(FwCfg.NbCpusKey, BootCpus);
        FwCfg.AddUInt16(FwCfg.MaxCpusKey, BootCpus);
        FwCfg.AddUInt16(FwCfg.BootMenuKey, (ushort)(Options.BootMenu ? 1 : 0));
        AddQemuDefaults();

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
        FwCfg.AddFile("etc/system-states", OfferedSystemStates());
        if (Options.Chipset == PcChipset.Q35)
        {
            AddSmiFeatureFiles();
        }

        AddAcpiFiles();
        Ports.Register(FwCfg.BasePort, FwCfg.PortCount, FwCfg);
        Ports.Register(FwCfg.DmaBasePort, FwCfg.DmaPortCount, FwCfg.DmaPort);
    }

    /// <summary>
    /// ICH9's three SMI feature files (hw/isa/lpc_ich9.c ich9_lpc_realize: added whenever the
    /// LPC's smi_host_features are non-zero, which QEMU 7.2 ties to no SMM setting — measured
    /// with <c>smm=off</c> too). Only requested-features is writable; selecting features-ok runs
    /// the validation.
    /// </summary>
    private void AddSmiFeatureFiles()
    {
        SmiFeatures = AddDevice(new SmiFeatureNegotiation());
        FwCfg.AddFile(SmiFeatureNegotiation.SupportedFile, SmiFeatures.Supported);
        FwCfg.AddFile(SmiFeatureNegotiation.RequestedFile, SmiFeatures.Requested, writable: true);
        FwCfg.AddFile(SmiFeatureNegotiation.FeaturesOkFile, SmiFeatures.FeaturesOk, SmiFeatures.FeaturesOkSelected);
    }
}
