// The ICH9 AHCI SATA function as QEMU 7.2 builds it on the q35 board (hw/ide/ich.c
// pci_ich9_ahci_realize, pci_ich9_reset; hw/ide/ahci.c ahci_idp_read/write): PCI 00:1f.2,
// vendor 8086 device 2922, revision 2, class 01/06/01 (SATA, AHCI 1.0), interrupt pin INTA,
// present even under -nodefaults, with the drives of -drive if=ide,index=0…5 on its ports. Like every function QEMU creates with
// multifunction=on (pc_q35.c), its header type has bit 7 set, and it carries QEMU's default
// subsystem ID 1AF4:1100 as the other q35 functions do.
// Emulated: BAR4 (32 bytes of I/O: the index/data pair at +0x10/+0x14 that reaches the HBA
// registers indirectly), BAR5 (ABAR, 4 KiB of memory: AhciHba), both decoded while the command
// register enables their space and the BAR holds an address (the machine maps them when the
// events say); the capability list as QEMU leaves it — MSI at 0x80 (64-bit, one vector, next
// 0xA8) and the SATA capability at 0xA8 (revision 1.0, BAR offset 0x48: BAR4 + 0x10); the
// address map register 0x90 = 0x40 (AHCI mode). QEMU's PCI reset clears the cache line size
// realize sets, so it reads 0 from power-on. The HBA interrupt goes out as an MSI (to the
// address and data the guest programmed, only with bus mastering on) when MSI is enabled, else
// on the INTA line (PIRQA through D31IR on this board).
// Not emulated: the PCI power-management capability
// (QEMU has none either), expansion ROM.
// Firmware relies on: OVMF's PciBusDxe sizing both BARs, SataControllerDxe binding to class
// 01/06, AtaAtapiPassThruDxe driving the HBA through ABAR (AhciHba, AhciPort).
using Emulator.Core.Devices.Pci;
using Emulator.Core.Io;

namespace Emulator.Core.Devices.Q35;

/// <summary>PCI 00:1f.2, the ICH9 AHCI controller.</summary>
public sealed class Ich9Ahci : PciFunction
{
    public const int FunctionNumber = 2;
    public const ushort DeviceId = 0x2922;
    public const byte Revision = 2;
    public const uint ClassSataAhci = 0x010601;
    public const int IdpBarOffset = 0x20;
    public const uint IdpSize = 32;
    public const int AbarOffset = 0x24;
    public const int MsiCapabilityOffset = 0x80;
    public const int SataCapabilityOffset = 0xA8;
    public const ushort StatusCapabilityList = 0x0010;
    public const int CapabilityPointerOffset = 0x34;

    private const byte MsiCapabilityId = 0x05;
    private const byte SataCapabilityId = 0x12;
    private const ushort MsiFlags64Bit = 0x0080;
    private const ushort MsiEnable = 0x0001;
    private const ushort MsiQueueSizeMask = 0x0070;
    private const int AddressMapOffset = 0x90;
    private const byte AddressMapAhci = 0x40;
    private const uint LastPort = 0xFFFF;

    private readonly Action<ulong, uint> _msiWrite;
    private (bool Enabled, ushort Base) _idp;
    private (bool Enabled, uint Base) _abar;
    private bool _msiPending;

    /// <param name="memory">Guest memory for the HBA's DMA (command lists, PRDT buffers, received FISes).</param>
    /// <param name="msiWrite">Writes an MSI message (address, data) to memory.</param>
    /// <param name="drives">The drives on the ports (index N on port N).</param>
    public Ich9Ahci(Memory.PhysicalBus memory, Action<ulong, uint> msiWrite, IReadOnlyList<Ide.IdeDrive>? drives = null)
        : base("ich9-ahci", I440fxHostBridge.VendorIntel, DeviceId, Revision, ClassSataAhci, HeaderTypeMultiFunction)
    {
        _msiWrite = msiWrite;
        SetDefaultSubsystemId();
        Hba = new AhciHba(memory, UpdateInterrupt, drives);
        Idp = new AhciIndexData(Hba);
        SetByte(InterruptPinOffset, 1);
        SetByte(AddressMapOffset, AddressMapAhci);
        DefineBar(IdpBarOffset, IdpSize, BarIoSpace);
        DefineBar(AbarOffset, AhciHba.BarSize, 0);
        SetWord(StatusOffset, StatusCapabilityList);
        SetByte(CapabilityPointerOffset, MsiCapabilityOffset);

        // pci_add_capability clears the write mask of each capability; msi_init then opens the
        // enable and queue-size bits, the address and the data.
        SetWriteMask(MsiCapabilityOffset, 0x18, 0);
        SetByte(MsiCapabilityOffset, MsiCapabilityId);
        SetByte(MsiCapabilityOffset + 1, SataCapabilityOffset);
        SetWord(MsiCapabilityOffset + 2, MsiFlags64Bit);
        SetWriteMask(MsiCapabilityOffset + 2, 2, MsiQueueSizeMask | MsiEnable);
        SetWriteMask(MsiCapabilityOffset + 4, 4, 0xFFFF_FFFC);
        SetWriteMask(MsiCapabilityOffset + 8, 4, 0xFFFF_FFFF);
        SetWriteMask(MsiCapabilityOffset + 12, 2, 0xFFFF);
        SetWriteMask(SataCapabilityOffset, 8, 0);
        SetByte(SataCapabilityOffset, SataCapabilityId);
        SetWord(SataCapabilityOffset + 2, 0x0010);
        SetDword(SataCapabilityOffset + 4, 0x48);
        Irq = new OutputLine("ich9-ahci.inta");
    }

    /// <summary>The HBA registers BAR5 maps.</summary>
    public AhciHba Hba { get; }

    /// <summary>The index/data pair BAR4 maps.</summary>
    public AhciIndexData Idp { get; }

    /// <summary>INTA, raised while the HBA interrupts without MSI.</summary>
    public OutputLine Irq { get; }

    /// <summary>Raised when BAR4's decoded I/O window changes: (enabled, base), 32 ports.</summary>
    public event Action<bool, ushort>? IdpChanged;

    /// <summary>Raised when BAR5's decoded memory window changes: (enabled, base), 4 KiB.</summary>
    public event Action<bool, uint>? AbarChanged;

    public bool MsiEnabled => (ReadConfig(MsiCapabilityOffset + 2, 2) & MsiEnable) != 0;

    /// <summary>The configuration space, the HBA, the index register and whether the last MSI condition was signalled.</summary>
    public override DeviceState SaveState() =>
        new Ich9AhciState(((PciConfigState)base.SaveState()).Config, Hba.Save(), Idp.Index, Irq.Level, _msiPending);

    public override void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<Ich9AhciState>(state, this);
        Hba.Restore(s.Hba);
        Idp.Index = s.Index;
        _msiPending = s.MsiPending;
        RestoreConfig(s.Config);
        Irq.Restore(s.Irq);
    }

    protected override void OnRestored() => UpdateBars(announce: true);

    /// <summary>pci_ich9_reset: the HBA reset; the BARs are back at power-on.</summary>
    protected override void OnReset()
    {
        Idp.Index = 0;
        _msiPending = false;
        Hba.Reset();
        UpdateBars();
    }

    protected override void OnConfigWritten(int offset, int size)
    {
        if (Touches(offset, size, CommandOffset, 2) || Touches(offset, size, IdpBarOffset, 8))
        {
            UpdateBars();
        }

        if (Touches(offset, size, MsiCapabilityOffset + 2, 2))
        {
            UpdateInterrupt();
        }
    }

    /// <summary>ahci_irq_raise/lower: an MSI on a rising condition while MSI is enabled (and bus mastering on), else the INTA level.</summary>
    private void UpdateInterrupt()
    {
        bool pending = Hba.InterruptPending;
        if (MsiEnabled)
        {
            if (Irq.Level)
            {
                Irq.Set(false);
            }

            if (pending && !_msiPending && (GetByte(CommandOffset) & CommandBusMaster) != 0)
            {
                ulong address = GetDword(MsiCapabilityOffset + 4) | ((ulong)GetDword(MsiCapabilityOffset + 8) << 32);
                _msiWrite(address, ReadConfig(MsiCapabilityOffset + 12, 2));
            }
        }
        else if (pending != Irq.Level)
        {
            Irq.Set(pending);
        }

        _msiPending = pending;
    }

    private void UpdateBars(bool announce = false)
    {
        byte command = GetByte(CommandOffset);
        uint idpBar = GetDword(IdpBarOffset) & ~(IdpSize - 1);
        var idp = ((command & CommandIoSpace) != 0 && idpBar != 0 && idpBar + IdpSize - 1 <= LastPort, (ushort)idpBar);
        if (announce || idp != _idp)
        {
            _idp = idp;
            IdpChanged?.Invoke(idp.Item1, idp.Item2);
        }

        uint abarBar = GetDword(AbarOffset) & ~((uint)AhciHba.BarSize - 1);
        var abar = ((command & CommandMemorySpace) != 0 && abarBar != 0 && abarBar != ~((uint)AhciHba.BarSize - 1), abarBar);
        if (announce || abar != _abar)
        {
            _abar = abar;
            AbarChanged?.Invoke(abar.Item1, abar.Item2);
        }
    }
}

/// <summary>The AHCI function: configuration space, HBA registers, index register, INTA level, MSI condition.</summary>
public sealed record Ich9AhciState(byte[] Config, AhciState Hba, uint Index, bool Irq, bool MsiPending) : DeviceState;

/// <summary>
/// BAR4's index/data pair (QEMU ahci_idp_read/write, idp_offset 0x10): +0x10 the index (dword
/// aligned, below 4 KiB), +0x14 the HBA register it selects; other offsets read 0.
/// </summary>
public sealed class AhciIndexData(AhciHba hba) : IPortDevice
{
    public const ushort IndexOffset = 0x10;
    public const ushort DataOffset = 0x14;

    public string Name => "ahci-idp";

    public uint Index { get; set; }

    public uint Read(ushort offset, int size) => offset switch
    {
        IndexOffset => Index,
        DataOffset => (uint)hba.Read(Index, size),
        _ => 0,
    };

    public void Write(ushort offset, int size, uint value)
    {
        if (offset == IndexOffset)
        {
            Index = value & ((AhciHba.BarSize - 1) & ~3u);
        }
        else if (offset == DataOffset)
        {
            hba.Write(Index, size, value);
        }
    }
}
