// Intel 82371SB PIIX3 IDE function as QEMU 7.2's `pc` machine always has it (hw/ide/piix.c,
// piix3-ide, even with -nodefaults): PCI 00:01.1, vendor 8086 device 7010, revision 0, class
// 01/01 with programming interface 0x80 (both channels in legacy "compatibility" mode at fixed
// ports, bus mastering supported), no interrupt pin. Datasheet: Intel 82371FB/82371SB, §2.3.
// Emulated: identification; the reset values QEMU's piix_ide_reset sets (command 0, status
// 0x0280 = medium DEVSEL timing and fast back-to-back capable, BMIBA at 0x20 = 1); BAR4
// (BMIBA, 16 bytes of I/O: bus-master registers of the primary channel at +0, the secondary
// at +8), decoded while command bit 0 (I/O space) is set and the BAR is non-zero and lies in the
// 64 KiB port space (QEMU pci_bar_address; a BAR still holding the sizing pattern is not
// decoded) — whenever that changes an event fires so the machine moves the ports;
// the two channels at their legacy ports (primary 0x1F0–0x1F7 + 0x3F6, IRQ 14; secondary
// 0x170–0x177 + 0x376, IRQ 15), which QEMU registers on the ISA bus regardless of the PCI
// command register; a channel's interrupt latches its bus-master interrupt bit on the way to
// the ISA IRQ (QEMU bmdma_irq); machine reset resets both channels and both bus-master blocks;
// up to four drives (IdeDrive: index 0–3 = primary/secondary × master/slave, as QEMU's
// pci_ide_create_devs places -drive if=ide), their DMA through the bus-master blocks into guest
// memory while command bit 2 (bus master) is set.
// Not emulated: the IDE timing registers (0x40–0x4F) beyond being stored.
// Firmware relies on: OVMF's PciBusDxe enumerates 00:01.1 and sizes BAR4 (16 bytes of I/O);
// SataControllerDxe binds to class 01/01 and AtaAtapiPassThruDxe reads the programming
// interface to find the legacy ports and BAR4 for the bus-master registers, then probes both
// channels for devices.
using Emulator.Core.Devices.Ide;
using Emulator.Core.Memory;

namespace Emulator.Core.Devices.Pci;

/// <summary>PCI 00:01.1, the PIIX3 IDE controller with its two ATA channels.</summary>
public sealed class Piix3Ide : PciFunction
{
    public const int FunctionNumber = 1;
    public const ushort DeviceId = 0x7010;
    public const uint ClassIdeLegacyBusMaster = 0x010180;
    public const int BusMasterBarOffset = 0x20;
    public const uint BusMasterBlockSize = 16;
    public const ushort StatusDefault = 0x0280;
    public const int ChannelCount = 2;

    private static readonly ushort[] CommandBlockBases = [0x1F0, 0x170];
    private static readonly ushort[] ControlBlockBases = [0x3F6, 0x376];
    private static readonly int[] Irqs = [14, 15];

    private const uint BusMasterBaseMask = 0xFFFFFFF0;
    private const uint LastPort = 0xFFFF;

    private bool _busMasterMapped;
    private ushort _busMasterBase;

    /// <param name="memory">Guest memory the bus-master blocks transfer to and from; null leaves DMA without memory (register tests).</param>
    /// <param name="drives">The drives at their positions (each index at most once; see <see cref="IdeDrive.Validate"/>).</param>
    public Piix3Ide(PhysicalBus? memory = null, IReadOnlyList<IdeDrive>? drives = null)
        : base("piix3-ide", I440fxHostBridge.VendorIntel, DeviceId, 0, ClassIdeLegacyBusMaster, 0)
    {
        drives ??= [];
        IdeDrive.ValidateSet(drives, IdeDrive.MaxIndex + 1, IdeDrive.PiixNumbering, nameof(IdeDrive.Index));

        SetWord(StatusOffset, StatusDefault);
        DefineBar(BusMasterBarOffset, BusMasterBlockSize, BarIoSpace);
        Channels = new IdeChannel[ChannelCount];
        BusMaster = new BusMasterChannel[ChannelCount];
        for (int i = 0; i < ChannelCount; i++)
        {
            // QEMU numbers the positions as it creates them (ide_init1): serials QM00001 … QM00004.
            Channels[i] = new IdeChannel(
                i == 0 ? "ide-primary" : "ide-secondary",
                (2 * i) + 1,
                drives.FirstOrDefault(d => d.Index == 2 * i),
                drives.FirstOrDefault(d => d.Index == (2 * i) + 1));
            BusMaster[i] = new BusMasterChannel(Channels[i].Name + "-bm", Channels[i], memory, () => (GetByte(CommandOffset) & CommandBusMaster) != 0);
            Channels[i].Irq.Connect(BusMaster[i].Name, BusMaster[i].InterruptIn);
        }
    }

    /// <summary>The ISA IRQ channel <paramref name="channel"/>'s interrupt (<see cref="BusMasterChannel.Irq"/>) belongs on: 14 or 15.</summary>
    public static int Irq(int channel) => Irqs[channel];

    /// <summary>
    /// Raised when the decoded bus-master block (enabled, base) changes: when enabled is false the
    /// block is unmapped; otherwise channel i's <see cref="BusMaster"/> registers sit at base + 8 × i.
    /// </summary>
    public event Action<bool, ushort>? BusMasterIoChanged;

    /// <summary>Primary (0) and secondary (1) channel.</summary>
    public IdeChannel[] Channels { get; }

    /// <summary>The bus-master register blocks of the primary (0) and secondary (1) channel.</summary>
    public BusMasterChannel[] BusMaster { get; }

    /// <summary>The I/O address BAR4 holds (it may lie beyond the port space while being sized).</summary>
    public uint BusMasterBase => GetDword(BusMasterBarOffset) & BusMasterBaseMask;

    public static ushort CommandBlockBase(int channel) => CommandBlockBases[channel];

    public static ushort ControlBlockBase(int channel) => ControlBlockBases[channel];

    protected override void OnReset()
    {
        for (int i = 0; i < ChannelCount; i++)
        {
            Channels[i].Reset();
            BusMaster[i].Reset();
        }

        UpdateBusMasterMapping();
    }

    /// <summary>The configuration space with both channels and both bus-master blocks (QEMU vmstate "ide" of piix3-ide).</summary>
    public override DeviceState SaveState() => new Piix3IdeState(
        ((PciConfigState)base.SaveState()).Config,
        [.. Channels.Select(c => (IdeChannelState)c.SaveState())],
        [.. BusMaster.Select(b => (BusMasterState)b.SaveState())]);

    public override void RestoreState(DeviceState state)
    {
        var s = DeviceState.Expect<Piix3IdeState>(state, this);
        for (int i = 0; i < ChannelCount; i++)
        {
            Channels[i].RestoreState(s.Channels[i]);
            BusMaster[i].RestoreState(s.BusMaster[i]);
        }

        RestoreConfig(s.Config);
    }

    /// <summary>A restore maps the bus-master blocks where the restored BAR4 and command register put them.</summary>
    protected override void OnRestored() => UpdateBusMasterMapping(announce: true);

    protected override void OnConfigWritten(int offset, int size)
    {
        if (Touches(offset, size, CommandOffset, 2) || Touches(offset, size, BusMasterBarOffset, 4))
        {
            UpdateBusMasterMapping();
        }
    }

    /// <summary>Recomputes the decoded block; tells the machine when it changed, or always with <paramref name="announce"/>.</summary>
    private void UpdateBusMasterMapping(bool announce = false)
    {
        uint bar = BusMasterBase;
        bool enabled = (GetByte(CommandOffset) & CommandIoSpace) != 0 && bar != 0 && bar + BusMasterBlockSize - 1 <= LastPort;
        ushort bmBase = (ushort)bar;
        if (announce || enabled != _busMasterMapped || (enabled && bmBase != _busMasterBase))
        {
            _busMasterMapped = enabled;
            _busMasterBase = bmBase;
            BusMasterIoChanged?.Invoke(enabled, bmBase);
        }
    }
}

/// <summary>The PIIX3 IDE function: its configuration space, both channels and both bus-master blocks.</summary>
public sealed record Piix3IdeState(byte[] Config, IdeChannelState[] Channels, BusMasterState[] BusMaster) : DeviceState;
