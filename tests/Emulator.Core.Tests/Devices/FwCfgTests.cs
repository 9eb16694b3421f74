using System.Buffers.Binary;
using System.Text;
using Emulator.Core.Devices.AcpiPm;
using Emulator.Core.Devices.FwCfg;
using Emulator.Core.Devices.CmosRtc;
using Emulator.Core.Machine;
using Emulator.Core.Tests.Support;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// fw_cfg on the pc machine, talked to only through ports and guest memory the way OVMF's
/// QemuFwCfgLib does: selector 0x510, data 0x511, DMA 0x514/0x518 (big-endian halves).
/// </summary>
[Trait("Category", "Unit")]
public sealed class FwCfgTests : IDisposable
{
    private const ulong Descriptor = 0x10000;
    private const ulong Buffer = 0x20000;

    private readonly PcMachine _m = NewMachine(256UL << 20);

    public void Dispose() => _m.Dispose();

    private static PcMachine NewMachine(ulong ram) =>
        new(new MachineOptions { RamSize = ram, Flash = [new("code", new byte[0x200000], true)] });

    private static void Select(PcMachine m, ushort key) => m.Ports.Write(0x510, 2, key);

    private static byte[] ReadData(PcMachine m, int count)
    {
        var b = new byte[count];
        for (int i = 0; i < count; i++)
        {
            b[i] = (byte)m.Ports.Read(0x511, 1);
        }

        return b;
    }

    private static Dictionary<string, (uint Size, ushort Key)> Directory(PcMachine m)
    {
        Select(m, FwCfg.FileDirKey);
        uint count = BinaryPrimitives.ReadUInt32BigEndian(ReadData(m, 4));
        var files = new Dictionary<string, (uint, ushort)>();
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var e = ReadData(m, FwCfg.FileEntrySize);
            string name = Encoding.ASCII.GetString(e, 8, FwCfg.FileNameLength).TrimEnd('\0');
            names.Add(name);
            files[name] = (BinaryPrimitives.ReadUInt32BigEndian(e), BinaryPrimitives.ReadUInt16BigEndian(e.AsSpan(4)));
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        return files;
    }

    /// <summary>Runs one DMA transfer: descriptor at <see cref="Descriptor"/>, returns the control word written back.</summary>
    private static uint Dma(PcMachine m, uint control, uint length, ulong address)
    {
        Span<byte> d = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(d, control);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], length);
        BinaryPrimitives.WriteUInt64BigEndian(d[8..], address);
        m.Bus.WriteBlock(Descriptor, d);
        m.Ports.Write(0x514, 4, BinaryPrimitives.ReverseEndianness((uint)(Descriptor >> 32)));
        m.Ports.Write(0x518, 4, BinaryPrimitives.ReverseEndianness((uint)Descriptor));
        Span<byte> back = stackalloc byte[4];
        m.Bus.ReadBlock(Descriptor, back);
        return BinaryPrimitives.ReadUInt32BigEndian(back);
    }

    private static byte[] Memory(PcMachine m, ulong address, int count)
    {
        var b = new byte[count];
        m.Bus.ReadBlock(address, b);
        return b;
    }

    [Fact]
    public void SignatureAndIdWithTheDmaBit()
    {
        Select(_m, FwCfg.SignatureKey);
        Assert.Equal("QEMU"u8.ToArray(), ReadData(_m, 4));
        Assert.Equal(0u, _m.Ports.Read(0x511, 1));     // past the end reads 0
        Select(_m, FwCfg.IdKey);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(ReadData(_m, 4)));

        // Reset selects the signature again, from its first byte.
        Select(_m, FwCfg.IdKey);
        _m.FwCfg.Reset();
        Assert.Equal((uint)'Q', _m.Ports.Read(0x511, 1));
        Assert.Equal((uint)'E', _m.Ports.Read(0x510, 1));   // byte reads of 0x510 are data reads too
    }

    [Fact]
    public void DmaRegisterReadsItsSignature()
    {
        var sig = new byte[8];
        for (int i = 0; i < 8; i++)
        {
            sig[i] = (byte)_m.Ports.Read((ushort)(0x514 + i), 1);
        }

        Assert.Equal("QEMU CFG"u8.ToArray(), sig);
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian("QEMU"u8), _m.Ports.Read(0x514, 4));
    }

    [Fact]
    public void CpuCountsAndRamSizeAreLittleEndianItems()
    {
        Select(_m, FwCfg.NbCpusKey);
        Assert.Equal(new byte[] { 1, 0 }, ReadData(_m, 2));
        Select(_m, FwCfg.MaxCpusKey);
        Assert.Equal(new byte[] { 1, 0 }, ReadData(_m, 2));
        Select(_m, FwCfg.RamSizeKey);
        Assert.Equal(256UL << 20, BinaryPrimitives.ReadUInt64LittleEndian(ReadData(_m, 8)));
    }

    [Fact]
    public void DirectoryListsE820AndSystemStatesWithTheirContents()
    {
        var files = Directory(_m);
        var (size, key) = files["etc/e820"];
        Assert.Equal(40u, size);
        Select(_m, key);
        var e820 = ReadData(_m, (int)size);

        // QEMU 7.2 with a qemu64 (AuthenticAMD, 40-bit) CPU: the HyperTransport hole first, then RAM.
        Assert.Equal(0xFD00000000UL, BinaryPrimitives.ReadUInt64LittleEndian(e820));
        Assert.Equal(0x300000000UL, BinaryPrimitives.ReadUInt64LittleEndian(e820.AsSpan(8)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(e820.AsSpan(16)));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(e820.AsSpan(20)));
        Assert.Equal(256UL << 20, BinaryPrimitives.ReadUInt64LittleEndian(e820.AsSpan(28)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(e820.AsSpan(36)));

        (size, key) = files["etc/system-states"];
        Select(_m, key);
        Assert.Equal(new byte[] { 0x80, 0x00, 0x00, 0x81, 0x82, 0x80 }, ReadData(_m, (int)size));
    }

    [Fact]
    public void DirectoryIsQemusListSortedWithSelectorsByPosition()
    {
        // QEMU 7.2 pc, measured (docs/fw-cfg.md): every file it serves by default and its size.
        var qemu = new Dictionary<string, uint>
        {
            ["bios-geometry"] = 0, ["bootorder"] = 0, ["etc/acpi/rsdp"] = 20, ["etc/acpi/tables"] = 131072,
            ["etc/boot-fail-wait"] = 4, ["etc/e820"] = 40, ["etc/smbios/smbios-anchor"] = 31,
            ["etc/smbios/smbios-tables"] = 321, ["etc/system-states"] = 6, ["etc/table-loader"] = 4096,
            ["etc/tpm/log"] = 0, ["genroms/kvmvapic.bin"] = 9216,
        };

        var files = Directory(_m);
        var names = files.Keys.Order(StringComparer.Ordinal).ToList();
        for (int i = 0; i < names.Count; i++)
        {
            Assert.Equal(FwCfg.FirstFileKey + i, files[names[i]].Key);   // QEMU: 0x20 + index in strcmp order
            Assert.Contains(names[i], qemu.Keys);
        }

        // These come from the machine's own generators and must match QEMU's sizes; QEMU's
        // option ROM genroms/kvmvapic.bin is its own binary, which OVMF never reads: not served.
        foreach (string name in new[] { "bios-geometry", "bootorder", "etc/boot-fail-wait", "etc/e820", "etc/smbios/smbios-anchor", "etc/smbios/smbios-tables", "etc/system-states" })
        {
            Assert.Equal(qemu[name], files[name].Size);
        }

        Assert.DoesNotContain("genroms/kvmvapic.bin", files.Keys);
    }

    /// <summary>
    /// The drop-in's <c>-boot dc,once=n,menu=on,splash-time=2500,reboot-timeout=5</c>: FW_CFG_BOOT_MENU
    /// 1, <c>etc/boot-menu-wait</c> 2500 (fw_cfg_bootsplash), <c>etc/boot-fail-wait</c> 5
    /// (fw_cfg_reboot); CMOS 0x3D/0x38 hold the once order (network = 4) until the first reset,
    /// then the order (disk 2 second, CD-ROM 3 first), as vl.c restore_boot_order does.
    /// </summary>
    [Fact]
    public void BootOptionsReachFwCfgAndTheCmosBootBytes()
    {
        using var m = new PcMachine(new MachineOptions
        {
            Flash = [new("code", new byte[0x200000], true)],
            BootOrder = "dc",
            BootOrderOnce = "n",
            BootMenu = true,
            BootMenuWait = 2500,
            RebootTimeout = 5,
        });
        var files = Directory(m);
        Select(m, FwCfg.BootMenuKey);
        Assert.Equal(new byte[] { 1, 0 }, ReadData(m, 2));
        Select(m, files["etc/boot-menu-wait"].Key);
        Assert.Equal(new byte[] { 0xC4, 0x09 }, ReadData(m, 2));
        Select(m, files["etc/boot-fail-wait"].Key);
        Assert.Equal(new byte[] { 5, 0, 0, 0 }, ReadData(m, 4));
        Assert.Equal((0x04, 0x00), (Cmos(m, 0x3D), Cmos(m, 0x38)));
        m.Reset();
        Assert.Equal((0x23, 0x00), (Cmos(m, 0x3D), Cmos(m, 0x38)));
        Assert.DoesNotContain("etc/boot-menu-wait", Directory(_m).Keys);
        Assert.Equal((0x12, 0x30), (Cmos(_m, 0x3D), Cmos(_m, 0x38)));
        Assert.Throws<MachineConfigurationException>(() => new PcMachine(new MachineOptions { Flash = [new("code", new byte[0x200000], true)], BootOrder = "cdan" }));
    }

    private static int Cmos(PcMachine m, byte index)
    {
        m.Ports.Write(0x70, 1, index);
        return (int)m.Ports.Read(0x71, 1);
    }

    [Fact]
    public void BootFilesAndArchItemsHoldQemusDefaults()
    {
        var files = Directory(_m);
        Select(_m, files["etc/boot-fail-wait"].Key);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, ReadData(_m, 4));   // -1: never reboot
        Select(_m, files["bootorder"].Key);
        Assert.Equal(new byte[4], ReadData(_m, 4));

        // NUMA: no nodes, one (zero) node number for APIC ID 0; irq0_override 1; no legacy ACPI tables.
        Select(_m, 0x0D);
        Assert.Equal(new byte[17], ReadData(_m, 17));
        Select(_m, 0x8002);
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, ReadData(_m, 4));
        Select(_m, 0x8000);
        Assert.Equal(new byte[4], ReadData(_m, 4));

        // HPET item: 121 bytes, one HPET (QEMU's default pc has one): its event-timer block ID
        // and base, minimum tick and page protection 0, the other 7 entries zero.
        Select(_m, 0x8004);
        var hpet = ReadData(_m, 122);
        Assert.Equal(1, hpet[0]);
        Assert.Equal(0x8086_A201u, BinaryPrimitives.ReadUInt32LittleEndian(hpet.AsSpan(1)));
        Assert.Equal(0xFED0_0000UL, BinaryPrimitives.ReadUInt64LittleEndian(hpet.AsSpan(5)));
        Assert.All(hpet[13..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void SmbiosFilesPassOvmfsChecksAndDescribeThisMachine()
    {
        using var m = NewMachine(4UL << 30);
        var files = Directory(m);
        Select(m, files["etc/smbios/smbios-anchor"].Key);
        var anchor = ReadData(m, (int)files["etc/smbios/smbios-anchor"].Size);
        Select(m, files["etc/smbios/smbios-tables"].Key);
        var tables = ReadData(m, (int)files["etc/smbios/smbios-tables"].Size);

        // OVMF DetectSmbiosVersionLib: a 31-byte anchor, major 2, both anchors, length = file size.
        Assert.Equal(31, anchor.Length);
        Assert.Equal("_SM_"u8.ToArray(), anchor[..4]);
        Assert.Equal("_DMI_"u8.ToArray(), anchor[16..21]);
        Assert.Equal(2, anchor[6]);
        Assert.Equal(tables.Length, BinaryPrimitives.ReadUInt16LittleEndian(anchor.AsSpan(22)));

        // SmbiosPlatformDxe adds each structure under its own handle: they must be unique.
        var s = SmbiosReader.Read(tables);
        Assert.Equal(s.Count, s.Select(x => x.Handle).Distinct().Count());
        Assert.Equal(s.Count, BinaryPrimitives.ReadUInt16LittleEndian(anchor.AsSpan(28)));

        var (eax, _, _, edx) = m.Cpu.Model.Query(1, 0);
        var cpu = s.Single(x => x.Type == 4);
        Assert.Equal((eax, edx), (cpu.DWord(8), cpu.DWord(12)));
        Assert.Equal(PcMachine.MachineTypeName, cpu.String(16));

        // 4 GiB: one device, and one mapped range per e820 RAM entry (3 GiB low, the rest above 4 GiB).
        Assert.Equal([4096], s.Where(x => x.Type == 17).Select(x => (int)x.Word(12)));
        var ram = m.E820Map().Where(e => e.Type == PcMachine.E820Ram).ToList();
        Assert.Equal(ram.Select(e => ((uint)(e.Base >> 10), (uint)((e.Base + e.Length - 1) >> 10))), s.Where(x => x.Type == 19).Select(x => (x.DWord(4), x.DWord(8))));
        Assert.Equal(2, ram.Count);
    }

    [Fact]
    public void E820AndCmosAgreeOnTheRamSize()
    {
        using var m = NewMachine(512UL << 20);
        var e820 = m.E820Map();
        var ram = Assert.Single(e820, e => e.Type == PcMachine.E820Ram);
        Assert.Equal((0UL, 512UL << 20), (ram.Base, ram.Length));

        // CMOS 0x34/0x35: 64 KiB units above 16 MiB, as OVMF reads it when there is no e820.
        m.Ports.Write(0x70, 1, Mc146818.MemoryAbove16MiBLow);
        uint low = m.Ports.Read(0x71, 1);
        m.Ports.Write(0x70, 1, Mc146818.MemoryAbove16MiBHigh);
        uint high = m.Ports.Read(0x71, 1);
        Assert.Equal(ram.Length, ((ulong)((high << 8) | low) << 16) + (16UL << 20));
    }

    [Fact]
    public void InvalidOrEmptySelectionsReadZero()
    {
        Select(_m, 0x3FFF);                       // beyond the file slots: invalid
        Assert.Equal(FwCfg.InvalidKey, _m.FwCfg.Selected);
        Assert.Equal(new byte[4], ReadData(_m, 4));
        Select(_m, 0x0008);                       // kernel size: a valid key without data
        Assert.Equal(new byte[4], ReadData(_m, 4));
        Select(_m, (ushort)(FwCfg.FirstFileKey + _m.FwCfg.FileNames.Count())); // the first unused file slot
        Assert.Equal(new byte[4], ReadData(_m, 4));
        Assert.Equal(0u, _m.Ports.Read(0x510, 2));  // wider reads are invalid accesses
    }

    [Fact]
    public void DmaSelectsReadsSkipsAndReportsStatus()
    {
        ushort e820 = _m.FwCfg.FileKey("etc/e820")!.Value;

        // SELECT + READ of the first entry: 20 bytes land in memory, control goes back to 0.
        Assert.Equal(0u, Dma(_m, ((uint)e820 << 16) | FwCfgDmaPort.ControlSelect | FwCfgDmaPort.ControlRead, 20, Buffer));
        Assert.Equal(0xFD00000000UL, _m.Bus.Read(Buffer, 8));

        // The offset continues: SKIP 8 bytes of the second entry, READ its length and type.
        Assert.Equal(0u, Dma(_m, FwCfgDmaPort.ControlSkip, 8, 0));
        Assert.Equal(0u, Dma(_m, FwCfgDmaPort.ControlRead, 12, Buffer + 0x100));
        Assert.Equal(256UL << 20, _m.Bus.Read(Buffer + 0x100, 8));
        Assert.Equal(1UL, _m.Bus.Read(Buffer + 0x108, 4));

        // Reading past the end fills zeros; the I/O data port continues from the same offset.
        _m.Bus.WriteBlock(Buffer + 0x200, [0xAA, 0xAA, 0xAA, 0xAA]);
        Assert.Equal(0u, Dma(_m, FwCfgDmaPort.ControlRead, 4, Buffer + 0x200));
        Assert.Equal(new byte[4], Memory(_m, Buffer + 0x200, 4));

        // The whole directory in one transfer, as OVMF's DMA path reads it.
        Assert.Equal(0u, Dma(_m, ((uint)FwCfg.FileDirKey << 16) | FwCfgDmaPort.ControlSelect | FwCfgDmaPort.ControlRead, 4, Buffer + 0x300));
        Assert.Equal((uint)_m.FwCfg.FileNames.Count(), BinaryPrimitives.ReadUInt32BigEndian(Memory(_m, Buffer + 0x300, 4)));

        // Writing a read-only item is an error; an invalid selection reads zeros without error.
        Assert.Equal(FwCfgDmaPort.ControlError, Dma(_m, ((uint)e820 << 16) | FwCfgDmaPort.ControlSelect | FwCfgDmaPort.ControlWrite, 4, Buffer));
        _m.Bus.WriteBlock(Buffer + 0x400, [0x55, 0x55]);
        Assert.Equal(0u, Dma(_m, (0x3FFFu << 16) | FwCfgDmaPort.ControlSelect | FwCfgDmaPort.ControlRead, 2, Buffer + 0x400));
        Assert.Equal(new byte[2], Memory(_m, Buffer + 0x400, 2));

        // No operation bit: nothing moves, the offset stays.
        Select(_m, FwCfg.SignatureKey);
        Assert.Equal(0u, Dma(_m, 0, 4, Buffer + 0x500));
        Assert.Equal((uint)'Q', _m.Ports.Read(0x511, 1));
        Assert.Equal(8, _m.FwCfg.DmaPort.Transfers);
    }

    [Fact]
    public void CpuHotplugAnswersOvmfsProbeWithOneCpu()
    {
        var hp = _m.CpuHotplug;
        Assert.True(hp.LegacyMode);
        Assert.Equal(0x01u, _m.Ports.Read(0xAF00, 1));   // legacy present-CPU bitmap
        Assert.Equal(0x00u, _m.Ports.Read(0xAF01, 1));

        // OVMF PlatformMaxCpuCountInitialization, step by step.
        _m.Ports.Write(0xAF00, 4, 0);                  // switches to the modern interface
        Assert.False(hp.LegacyMode);
        _m.Ports.Write(0xAF00, 4, 0);
        _m.Ports.Write(0xAF05, 1, CpuHotplugBlock.CommandGetNextWithEvent);
        Assert.Equal(0u, _m.Ports.Read(0xAF00, 4));    // CMD_DATA2 reads 0: modern

        uint present = 0, possible = 0, selected;
        _m.Ports.Write(0xAF00, 4, possible);
        do
        {
            present += _m.Ports.Read(0xAF04, 1) & CpuHotplugBlock.FlagEnabled;
            _m.Ports.Write(0xAF00, 4, ++possible);
            selected = _m.Ports.Read(0xAF08, 4);
        }
        while (selected > 0);

        Assert.Equal((1u, 1u), (present, possible));
        Assert.Equal(0xFFu, _m.Ports.Read(0xAF10, 1));  // beyond the 12 modern ports
    }
}
