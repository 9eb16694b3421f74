// virtio-blk-pci as QEMU 7.2 creates it for -drive if=virtio on pc and q35 (hw/virtio/virtio-pci.c
// virtio_pci_realize, virtio_pci_device_plugged, virtio_write_config, virtio_pci_reset;
// hw/virtio/virtio-blk-pci.c): the transitional device a conventional PCI bus gets
// (disable-legacy=auto is off there, disable-modern=off): vendor 1AF4 device 1001 revision 0,
// class 01/00/00 (SCSI storage), subsystem 1AF4:0002 (the virtio device ID), interrupt pin A,
// header type 0. BARs: BAR0 128 bytes of I/O, the legacy interface (VirtioLegacyPort); BAR1
// 4 KiB of memory, the MSI-X table (two vectors: one queue plus config); BAR4 16 KiB of 64-bit
// prefetchable memory, the modern interface. Capabilities, laid out as QEMU adds them
// (pci_add_capability takes the first free bytes from 0x40 and puts each new capability at the
// head of the list): vendor-specific virtio capabilities common (0x40), ISR (0x50), device (0x60),
// notify (0x70, multiplier 4) and PCI-configuration access (0x84), then MSI-X (0x98), so the
// list reads 0x98, 0x84, 0x70, 0x60, 0x50, 0x40 (measured with the Shell's `pci -i`).
// Emulated: identification, BAR sizing, the capability bytes and the write masks QEMU gives
// them (the rest of 0x40–0xFF is read-only, pci_init_wmask), the legacy interface on BAR0 while
// I/O decoding is on, the modern one on BAR4 while memory decoding is on, MSI-X (table and pending bits on BAR1, delivery as a memory write), INTA
// as QEMU's virtio_pci_notify drives it (ISR bit 0, not while MSI-X is enabled, masked by the
// command register's interrupt-disable bit, pci_irq_disabled); clearing bus mastering disables
// the device and drops DRIVER_OK (virtio_write_config), DRIVER_OK sets bus mastering (virtio_ioport_write, for old
// Linux), and a machine reset resets the device (virtio_pci_reset).
// The modern interface on BAR4 (VirtioModernRegisters), wherever the 64-bit BAR is placed (OVMF
// puts it above 4 GiB), and through the PCI-configuration access capability: a write of its data
// field (0x94) writes `length` (1, 2 or 4) bytes at `offset` of the modern registers, a read
// refreshes the field from there first (virtio_write_config, virtio_read_config; the capability's
// bar field is not consulted, as in QEMU). OVMF binds only the legacy interface to a revision-0
// device (VirtioPciDeviceDxe; Virtio10Dxe takes revision 1 and up); Linux's virtio_pci prefers
// the modern one.
// Firmware relies on: PciBusDxe sizing all three BARs (BAR4 as 64-bit), VirtioPciDeviceDxe
// binding 1AF4:1000–103F revision 0 and driving BAR0.
using Emulator.Core.Devices.Pci;
using Emulator.Core.Io;
using Emulator.Core.Memory;
using Emulator.Core.Storage;

namespace Emulator.Core.Devices.Virtio;

/// <summary>A virtio-blk-pci function (transitional, legacy interface on BAR0).</summary>
public sealed class VirtioBlkPci : PciFunction
{
    public const ushort VendorRedHat = 0x1AF4;
    public const ushort DeviceIdBlockTransitional = 0x1001;
    public const ushort SubsystemIdBlock = 0x0002;
    public const uint ClassScsiStorage = 0x010000;
    public const int LegacyBarOffset = 0x10;
    public const uint LegacySize = 128;
    public const int MsixBarOffset = 0x14;
    public const int ModernBarOffset = 0x20;
    public const uint ModernSize = 0x4000;
    public const int CapabilityPointerOffset = 0x34;
    public const int MsixCapabilityOffset = 0x98;
    public const int MsixVectors = 2;
    public const ushort StatusCapabilityList = 0x0010;
    public const ushort MsixEnable = 0x8000;
    public const ushort MsixFunctionMask = 0x4000;

    private const byte VendorCapabilityId = 0x09;
    private const int PciCfgCapability = 0x84;
    private const int PciCfgOffset = PciCfgCapability + 8;
    private const int PciCfgLength = PciCfgCapability + 12;
    private const int PciCfgData = PciCfgCapability + 16;
    private const byte MsixCapabilityId = 0x11;
    private const int ModernBarIndex = 4;
    private const uint LastPort = 0xFFFF;

    private (bool Enabled, ushort Base) _legacy;
    private (bool Enabled, uint Base) _msix;
    private (bool Enabled, ulong Base) _modern;

    /// <param name="name">The device's name in the machine (virtio-blk0, …).</param>
    /// <param name="memory">Guest memory for the queue, the requests and MSI-X messages.</param>
    /// <param name="backend">The medium (not disposed here).</param>
    public VirtioBlkPci(string name, PhysicalBus memory, IBlockBackend backend)
        : base(name, VendorRedHat, DeviceIdBlockTransitional, 0, ClassScsiStorage, 0)
    {
        Block = new VirtioBlk(memory, backend, UpdateInterrupt);
        Msix = new MsixTable(name + "-msix", MsixVectors, (address, data) => memory.Write(address, sizeof(uint), data));
        Legacy = new VirtioLegacyPort(this);
        Modern = new VirtioModernRegisters(this);
        Irq = new OutputLine(name + ".inta");

        SetWord(StatusOffset, StatusCapabilityList);
        SetWord(SubsystemVendorIdOffset, VendorRedHat);
        SetWord(SubsystemVendorIdOffset + 2, SubsystemIdBlock);
        SetByte(InterruptPinOffset, 1);
        DefineBar(LegacyBarOffset, LegacySize, BarIoSpace);
        DefineBar(MsixBarOffset, (uint)MsixTable.BarSize, 0);
        DefineBar(ModernBarOffset, ModernSize, BarMemory64 | BarPrefetchable);
        SetWriteMask(ModernBarOffset + 4, 4, 0xFFFF_FFFF);
        for (int i = DeviceSpecificOffset; i < ConfigSpaceSize; i++)
        {
            SetWriteMask(i, 1, 0);
        }

        SetByte(CapabilityPointerOffset, MsixCapabilityOffset);
        AddVirtioCapability(0x40, 0, 16, type: 1, offset: 0x0000, regionLength: 0x1000);
        AddVirtioCapability(0x50, 0x40, 16, type: 3, offset: 0x1000, regionLength: 0x1000);
        AddVirtioCapability(0x60, 0x50, 16, type: 4, offset: 0x2000, regionLength: 0x1000);
        AddVirtioCapability(0x70, 0x60, 20, type: 2, offset: 0x3000, regionLength: 0x1000);
        SetDword(0x70 + 16, 4);

        // VIRTIO_PCI_CAP_PCI_CFG: no BAR, offset or length until the guest writes them (virtio_pci_device_plugged opens those and the data).
        AddVirtioCapability(PciCfgCapability, 0x70, 20, type: 5, offset: 0, regionLength: 0, bar: 0);
        SetWriteMask(PciCfgCapability + 4, 1, 0xFF);
        SetWriteMask(PciCfgOffset, 4, 0xFFFF_FFFF);
        SetWriteMask(PciCfgLength, 4, 0xFFFF_FFFF);
        SetWriteMask(PciCfgData, 4, 0xFFFF_FFFF);

        // msix_init: table size − 1 in the control word, table at BAR1 + 0, PBA at BAR1 + 0x800; enable and function mask writable.
        SetByte(MsixCapabilityOffset, MsixCapabilityId);
        SetByte(MsixCapabilityOffset + 1, 0x84);
        SetWord(MsixCapabilityOffset + 2, MsixVectors - 1);
        SetDword(MsixCapabilityOffset + 4, 1);
        SetDword(MsixCapabilityOffset + 8, (uint)MsixTable.PbaOffset | 1);
        SetWriteMask(MsixCapabilityOffset + 2, 2, MsixEnable | MsixFunctionMask);
    }

    /// <summary>The virtio device behind the transport.</summary>
    public VirtioBlk Block { get; }

    /// <summary>BAR1's MSI-X table.</summary>
    public MsixTable Msix { get; }

    /// <summary>BAR0's legacy registers.</summary>
    public VirtioLegacyPort Legacy { get; }

    /// <summary>BAR4's modern registers.</summary>
    public VirtioModernRegisters Modern { get; }

    /// <summary>INTA: ISR bit 0 while MSI-X is off and interrupts are not disabled in the command register.</summary>
    public OutputLine Irq { get; }

    /// <summary>The MSI-X vectors the legacy interface selected (VIRTIO_MSI_CONFIG_VECTOR, VIRTIO_MSI_QUEUE_VECTOR); 0xFFFF none.</summary>
    public ushort ConfigVector { get; internal set; } = NoVector;

    public ushort QueueVector { get; internal set; } = NoVector;

    public const ushort NoVector = 0xFFFF;

    /// <summary>Raised when BAR0's decoded I/O window changes: (enabled, base), 128 ports.</summary>
    public event Action<bool, ushort>? LegacyIoChanged;

    /// <summary>Raised when BAR1's decoded memory window changes: (enabled, base), 4 KiB.</summary>
    public event Action<bool, uint>? MsixMmioChanged;

    /// <summary>Raised when BAR4's decoded memory window changes: (enabled, base), 16 KiB, anywhere in the 64-bit space.</summary>
    public event Action<bool, ulong>? ModernMmioChanged;

    public bool MsixEnabled => (ReadConfig(MsixCapabilityOffset + 2, 2) & MsixEnable) != 0;

    /// <summary>Bus mastering is on (virtio_pci_notify sends MSI-X only then; DMA is not gated here, as in QEMU's legacy path).</summary>
    internal bool BusMaster => (GetByte(CommandOffset) & CommandBusMaster) != 0;

    public override DeviceState SaveState()
    {
        var (table, pending) = Msix.Save();
        return new VirtioBlkPciState(((PciConfigState)base.SaveState()).Config, Block.Save(), Modern.State, ConfigVector, QueueVector, table, pending, Irq.Level);
    }

    public override void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<VirtioBlkPciState>(state, this);
        Block.Restore(s.Block);
        Modern.State = s.Modern;
        ConfigVector = s.ConfigVector;
        QueueVector = s.QueueVector;
        Msix.Restore(s.MsixTable, s.MsixPending);
        RestoreConfig(s.Config);
        Irq.Restore(s.Irq);
    }

    /// <summary>The BAR windows where the restored registers put them, MSI-X state from the control word.</summary>
    protected override void OnRestored()
    {
        SyncMsixControl();
        UpdateBars(announce: true);
    }

    /// <summary>virtio_pci_reset: the device, the MSI-X vectors and table; BARs back at power-on.</summary>
    protected override void OnReset()
    {
        Msix.Reset();
        Modern.Reset();
        ConfigVector = NoVector;
        QueueVector = NoVector;
        Block.Reset();
        UpdateBars();
    }

    protected override void OnConfigWritten(int offset, int size)
    {
        if (Touches(offset, size, CommandOffset, 2))
        {
            // virtio_write_config: a driver that turns bus mastering off has stopped the device
            // (disabled, DRIVER_OK dropped); turning it on enables the device again.
            Block.Disabled = !BusMaster;
            if (!BusMaster && (Block.Status & VirtioBlk.StatusDriverOk) != 0)
            {
                Block.SetStatus((byte)(Block.Status & ~VirtioBlk.StatusDriverOk));
            }

            UpdateInterrupt();
        }

        if (Touches(offset, size, CommandOffset, 2) || Touches(offset, size, LegacyBarOffset, 8) || Touches(offset, size, ModernBarOffset, 8))
        {
            UpdateBars();
        }

        if (Touches(offset, size, MsixCapabilityOffset + 2, 2))
        {
            SyncMsixControl();
            UpdateInterrupt();
            Msix.DeliverUnmasked();
        }

        if (Touches(offset, size, PciCfgData, 4) && PciCfgAccess() is { } access)
        {
            Modern.Write(access.Offset, access.Length, ReadDataField(access.Length));
        }
    }

    /// <summary>virtio_read_config: reading the PCI-cfg capability's data field first fetches it from the modern registers.</summary>
    protected override void OnConfigRead(int offset, int size)
    {
        if (Touches(offset, size, PciCfgData, 4) && PciCfgAccess() is { } access)
        {
            uint value = (uint)Modern.Read(access.Offset, access.Length);
            for (int i = 0; i < access.Length; i++)
            {
                SetByte(PciCfgData + i, (byte)(value >> (8 * i)));
            }
        }
    }

    /// <summary>The capability's offset and length when the length is 1, 2 or 4 bytes and the access lies inside BAR4's registers (virtio_address_space_lookup).</summary>
    private (ulong Offset, int Length)? PciCfgAccess()
    {
        uint at = GetDword(PciCfgOffset);
        uint length = GetDword(PciCfgLength);
        return length is 1 or 2 or 4 && (ulong)at + length <= VirtioModernRegisters.BarSize ? (at, (int)length) : null;
    }

    private uint ReadDataField(int length)
    {
        uint value = 0;
        for (int i = 0; i < length; i++)
        {
            value |= (uint)GetByte(PciCfgData + i) << (8 * i);
        }

        return value;
    }

    /// <summary>msix_vector_use fails for a vector beyond the table: the register then holds VIRTIO_NO_VECTOR.</summary>
    public static ushort VectorFor(uint value) => (ushort)value < MsixVectors ? (ushort)value : NoVector;

    /// <summary>virtio_pci_reset's part beyond the device (after a status or PFN of 0): the vectors go back to none, the modern interface's queue settings are cleared.</summary>
    internal void ResetTransport()
    {
        ConfigVector = NoVector;
        QueueVector = NoVector;
        Modern.ResetQueues();
    }

    /// <summary>virtio_ioport_write STATUS with DRIVER_OK: QEMU turns bus mastering on for Linux before 2.6.34.</summary>
    internal void EnableBusMasterForDriver()
    {
        if (!BusMaster)
        {
            WriteConfig(CommandOffset, 1, (uint)(GetByte(CommandOffset) | CommandBusMaster));
        }
    }

    /// <summary>
    /// virtio_pci_notify: a signalled queue sends its MSI-X vector while MSI-X is on; otherwise
    /// (and whenever the ISR changed) INTA follows ISR bit 0, held low by the command register's
    /// interrupt-disable bit and while MSI-X is on (msix_write_config deasserts INTx).
    /// </summary>
    private void UpdateInterrupt(VirtioInterrupt signalled = VirtioInterrupt.None)
    {
        if (signalled != VirtioInterrupt.None && MsixEnabled)
        {
            Msix.Notify(signalled == VirtioInterrupt.Queue ? QueueVector : ConfigVector);
        }

        bool intx = !MsixEnabled && (Block.Isr & 1) != 0 && (GetWord(CommandOffset) & CommandInterruptDisable) == 0;
        if (intx != Irq.Level)
        {
            Irq.Set(intx);
        }
    }

    private ushort GetWord(int offset) => (ushort)ReadConfig(offset, 2);

    private void SyncMsixControl()
    {
        ushort control = GetWord(MsixCapabilityOffset + 2);
        Msix.Enabled = (control & MsixEnable) != 0;
        Msix.FunctionMasked = (control & MsixFunctionMask) != 0;
    }

    /// <summary>virtio_pci_add_mem_cap: a vendor-specific capability {id 9, next, length, cfg_type, bar, padding, offset, length}, read-only.</summary>
    private void AddVirtioCapability(int at, byte next, byte capLength, byte type, uint offset, uint regionLength, byte bar = ModernBarIndex)
    {
        SetByte(at, VendorCapabilityId);
        SetByte(at + 1, next);
        SetByte(at + 2, capLength);
        SetByte(at + 3, type);
        SetByte(at + 4, bar);
        SetDword(at + 8, offset);
        SetDword(at + 12, regionLength);
    }

    private void UpdateBars(bool announce = false)
    {
        byte command = GetByte(CommandOffset);
        uint legacyBar = GetDword(LegacyBarOffset) & ~(LegacySize - 1);
        var legacy = ((command & CommandIoSpace) != 0 && legacyBar != 0 && legacyBar + LegacySize - 1 <= LastPort, (ushort)legacyBar);
        if (announce || legacy != _legacy)
        {
            _legacy = legacy;
            LegacyIoChanged?.Invoke(legacy.Item1, legacy.Item2);
        }

        uint msixBar = GetDword(MsixBarOffset) & ~((uint)MsixTable.BarSize - 1);
        var msix = ((command & CommandMemorySpace) != 0 && msixBar != 0 && msixBar != ~((uint)MsixTable.BarSize - 1), msixBar);
        if (announce || msix != _msix)
        {
            _msix = msix;
            MsixMmioChanged?.Invoke(msix.Item1, msix.Item2);
        }

        // pci_bar_address: a 64-bit BAR whose last byte would be 2^64 − 1 (the sizing pattern) is unmapped.
        ulong modernBar = (GetDword(ModernBarOffset) & ~(ModernSize - 1)) | ((ulong)GetDword(ModernBarOffset + 4) << 32);
        var modern = ((command & CommandMemorySpace) != 0 && modernBar != 0 && modernBar + ModernSize - 1 > modernBar && modernBar + ModernSize - 1 != ulong.MaxValue, modernBar);
        if (announce || modern != _modern)
        {
            _modern = modern;
            ModernMmioChanged?.Invoke(modern.Item1, modern.Item2);
        }
    }
}

/// <summary>The function: configuration space, the virtio device, the modern interface's registers, the MSI-X vectors and table, INTA.</summary>
public sealed record VirtioBlkPciState(
    byte[] Config, VirtioBlkState Block, VirtioModernState Modern, ushort ConfigVector, ushort QueueVector, byte[] MsixTable, byte[] MsixPending, bool Irq) : DeviceState;
