using System.Text.Json;
using Emulator.Core.Devices;
using Emulator.Core.Devices.Virtio;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// The virtio-blk-pci function as QEMU 7.2 lays it out (measured with `info pci` and the Shell's
/// `pci -i`: 1AF4:1001 rev 0, class 01/00/00, subsystem 1AF4:0002, BAR0 128 B I/O, BAR1 4 KiB,
/// BAR4 64-bit prefetchable 16 KiB, capabilities 0x98 → 0x84 → … → 0x40), its placement on both
/// boards, the legacy registers (features 0x79006E54, queue size 256, config at 0x14 or 0x18),
/// reset, and its interrupt: ISR bit 0 on INTA through the board's PIRQ, read-to-clear, or MSI-X.
/// </summary>
[Trait("Category", "Unit")]
public sealed class VirtioBlkPciTests
{
    [Fact]
    public void IdentityBarsAndCapabilitiesAreQemus()
    {
        using var g = new VirtioGuest();
        Assert.Equal(0x1001_1AF4u, g.Config(0x00));
        Assert.Equal(0x0100_0000u, g.Config(0x08));                 // class 01/00/00, revision 0
        Assert.Equal(0x0002_1AF4u, g.Config(0x2C));
        Assert.Equal(0x0010u, g.Config(0x04) >> 16);                // status: capability list
        Assert.Equal(0x01u, (g.Config(0x3C) >> 8) & 0xFF);           // INTA
        Assert.Equal(0u, (g.Config(0x0C) >> 16) & 0xFF);             // header type 0

        g.Config(0x14, 0xFFFF_FFFF);
        g.Config(0x20, 0xFFFF_FFFF);
        g.Config(0x24, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_F000u, g.Config(0x14));
        Assert.Equal(0xFFFF_C00Cu, g.Config(0x20));
        Assert.Equal(0xFFFF_FFFFu, g.Config(0x24));
        g.Config(0x10, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FF81u, g.Config(0x10));

        var chain = new List<(int At, uint Id, uint Length, uint Type)>();
        for (int at = (int)(g.Config(0x34) & 0xFF); at != 0; at = (int)((g.Config(at) >> 8) & 0xFF))
        {
            uint head = g.Config(at);
            chain.Add((at, head & 0xFF, (head >> 16) & 0xFF, head >> 24));
        }

        Assert.Equal(
            [(0x98, 0x11u, 0x01u, 0x00u), (0x84, 9u, 20u, 5u), (0x70, 9u, 20u, 2u), (0x60, 9u, 16u, 4u), (0x50, 9u, 16u, 3u), (0x40, 9u, 16u, 1u)],
            chain);
        Assert.Equal(0x0001u, g.Config(0x98) >> 16);                 // two MSI-X vectors
        Assert.Equal(0x0000_0001u, g.Config(0x9C));                  // table at BAR1 + 0
        Assert.Equal(0x0000_0801u, g.Config(0xA0));                  // PBA at BAR1 + 0x800
        Assert.Equal((4u, 0x3000u, 0x1000u, 4u), (g.Config(0x74) & 0xFF, g.Config(0x78), g.Config(0x7C), g.Config(0x80)));

        g.Config(0x40, 0xFFFF_FFFF);                                 // capabilities are read-only
        Assert.Equal(0x0110_0009u, g.Config(0x40));
    }

    [Theory]
    [InlineData(PcChipset.I440fx, 0, 2, 3)]
    [InlineData(PcChipset.Q35, 0, 1, 2)]
    [InlineData(PcChipset.I440fx, 2, 4, 5)]                  // QEMU's default VGA and NIC at 2 and 3
    public void DrivesTakeTheFirstFreeSlotsInOrder(PcChipset chipset, int absent, int first, int second)
    {
        var backend = new MemoryBlockBackend(new byte[4096]);
        using var m = new PcMachine(new MachineOptions
        {
            Chipset = chipset,
            RamSize = 16UL << 20,
            Flash = [new("code", new byte[0x10000], true)],
            VirtioDrives = [new VirtioDrive(backend), new VirtioDrive(backend)],
            AbsentDefaultPciSlots = absent,
        });
        Assert.Same(m.VirtioDisks[0], m.Pci.FunctionAt(first, 0));
        Assert.Same(m.VirtioDisks[1], m.Pci.FunctionAt(second, 0));
        Assert.Equal(["virtio-blk0", "virtio-blk1"], m.Devices.TakeLast(2).Select(d => d.Name));
    }

    [Fact]
    public void ASlotThatIsTakenIsRefusedInOneLine()
    {
        var e = Assert.Throws<MachineConfigurationException>(() => new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            Flash = [new("code", new byte[0x10000], true)],
            VirtioDrives = [new VirtioDrive(new MemoryBlockBackend(new byte[4096]), Slot: 1)],
        }));
        Assert.Equal("virtio-blk: PCI slot 1 is already used by piix3-isa", e.Message);
    }

    [Fact]
    public void FeaturesQueueAndConfigurationAreQemus()
    {
        using var g = new VirtioGuest();
        Assert.Equal(0x7900_6E54u, g.In(0x00, 4));
        Assert.Equal(256u, g.In(0x0C, 2));
        Assert.Equal((ulong)VirtioGuest.DiskSectors, g.In(0x14, 4) | ((ulong)g.In(0x18, 4) << 32));
        Assert.Equal(512u, g.In(0x14 + 20, 4));                      // blk_size
        Assert.Equal(254u, g.In(0x14 + 12, 4));                      // seg_max
        Assert.Equal(0u, g.In(0x14 + 24, 4));                        // topology
        Assert.Equal(1u, g.In(0x14 + 32, 1));                        // wce
        Assert.Equal(0xFFFF_FFFFu, g.In(0x14 + 56, 4));              // past config_len
        Assert.Equal(0xFFFFu, g.In(0x02, 2));                        // no register there

        g.Out(0x04, 4, 0xFFFF_FFFF & ~VirtioBlk.FeatureBad);
        Assert.Equal(0x3900_6E54u, g.In(0x04, 4));                   // only offered bits stick
        g.Out(0x04, 4, 0x640 | VirtioBlk.FeatureBad);
        Assert.Equal(0u, g.In(0x04, 4));                             // BAD_FEATURE: assume nothing

        g.Out(0x0E, 2, 1);
        Assert.Equal(0u, g.In(0x0C, 2));                             // no queue 1
        g.Out(0x0E, 2, 2000);
        Assert.Equal(1u, g.In(0x0E, 2));                             // beyond VIRTIO_QUEUE_MAX: ignored

        using var ro = new VirtioGuest(readOnly: true);
        Assert.Equal(0x7900_6E74u, ro.In(0x00, 4));                  // VIRTIO_BLK_F_RO
    }

    [Fact]
    public void StatusZeroResetsTheDevice()
    {
        using var g = new VirtioGuest();
        g.Start();
        Assert.Equal(7u, g.In(0x12, 1));
        Assert.Equal(0x640u, g.In(0x04, 4));
        Assert.Equal((uint)(VirtioGuest.Ring >> 12), g.In(0x08, 4));
        g.Out(0x14 + 32, 1, 0);
        Assert.Equal(0u, g.In(0x14 + 32, 1));

        g.Out(0x12, 1, 0);
        Assert.Equal((0u, 0u, 0u, 1u), (g.In(0x12, 1), g.In(0x04, 4), g.In(0x08, 4), g.In(0x14 + 32, 1)));
    }

    /// <summary>virtio_write_config: bus mastering off disables the device (nothing is processed) and drops DRIVER_OK; on again, the request goes through.</summary>
    [Fact]
    public void WithoutBusMasteringNothingIsProcessed()
    {
        using var g = new VirtioGuest();
        g.Start();
        g.Config(0x04, 0x1, 2);
        Assert.Equal(3u, g.In(0x12, 1));
        Assert.Equal(0xFF, g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true));
        Assert.Equal(0, g.UsedIndex);
        g.Config(0x04, 0x5, 2);
        g.Out(0x10, 2, 0);
        Assert.Equal(1, g.UsedIndex);
    }

    [Fact]
    public void AnInterruptRaisesIsrAndInta()
    {
        using var g = new VirtioGuest();
        g.Machine.Ports.Write(0xCF8, 4, 0x8000_0860);                // PIIX3 PIRQRC: A–D → 10, 10, 11, 11 as OVMF sets them
        g.Machine.Ports.Write(0xCFC, 4, 0x0B0B_0A0A);
        g.Start();

        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true));
        Assert.False(g.Function.Irq.Level);                          // NO_INTERRUPT, OVMF's way
        Assert.Equal(0u, g.In(0x13, 1));

        g.RequestHeader(VirtioBlk.RequestIn, 0);
        g.Submit(0, availFlags: 0);
        Assert.True(g.Function.Irq.Level);
        Assert.True(g.Machine.IsaBridge.Irq[10].Level);              // slot 2 INTA → PIRQB → IRQ 10
        Assert.Equal(1u, g.In(0x13, 1));
        Assert.False(g.Function.Irq.Level);                          // read clears and lowers
        Assert.False(g.Machine.IsaBridge.Irq[10].Level);
        Assert.Equal(0u, g.In(0x13, 1));

        g.Submit(0, availFlags: 0);
        g.Config(0x04, 0x405, 2);                                    // interrupt disable holds INTA low
        Assert.False(g.Function.Irq.Level);
        g.Config(0x04, 0x005, 2);
        Assert.True(g.Function.Irq.Level);
    }

    /// <summary>
    /// With VIRTIO_RING_F_EVENT_IDX the guest's used_event decides (vring_need_event) and the device
    /// publishes avail_event; with NOTIFY_ON_EMPTY an empty queue interrupts despite NO_INTERRUPT.
    /// </summary>
    [Fact]
    public void EventIndexAndNotifyOnEmptyDecideAsQemu()
    {
        using var g = new VirtioGuest();
        g.Start(features: 0x640 | VirtioBlk.FeatureEventIndex);
        ulong usedEvent = g.Avail + 4 + 512;
        g.Machine.Bus.Write(usedEvent, 2, 5);                        // interrupt once the 6th is used
        g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);  // the first always notifies (not yet signalled)
        Assert.Equal(1u, g.In(0x13, 1));
        for (int i = 0; i < 4; i++)
        {
            g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);
        }

        Assert.Equal(0u, g.In(0x13, 1));
        g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);
        Assert.Equal(1u, g.In(0x13, 1));
        Assert.Equal(6u, g.Machine.Bus.Read(g.Used + 4 + (8 * 256), 2));    // avail_event

        using var empty = new VirtioGuest();
        empty.Start(features: 0x640 | VirtioBlk.FeatureNotifyOnEmpty);
        empty.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);
        Assert.Equal(1u, empty.In(0x13, 1));
    }

    [Fact]
    public void OnQ35IntaReachesThePirqOfTheSlot()
    {
        using var g = new VirtioGuest(chipset: PcChipset.Q35);
        g.Start();
        g.RequestHeader(VirtioBlk.RequestIn, 0);
        g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);
        g.Submit(0, availFlags: 0);
        Assert.True(g.Function.Irq.Level);
        Assert.True(g.Machine.Lpc.Gsi[16 + 5].Level);                // slot 1 INTA → PIRQF → GSI 21
    }

    [Fact]
    public void WithMsixTheQueueVectorIsAMemoryWrite()
    {
        using var g = new VirtioGuest();
        const uint msixBar = 0xFEB0_0000;
        g.Config(0x14, msixBar);
        g.Config(0x04, 0x7, 2);
        g.Config(0x98, 0x8000_0000 | 0x0001_0011 | (0x84 << 8));    // MSI-X enable
        Assert.Equal(0x18, g.Function.Legacy.ConfigOffset);
        Assert.Equal((ulong)VirtioGuest.DiskSectors, g.In(0x18, 4));

        g.Machine.Bus.Write(msixBar + 16, 4, 0x50000);               // vector 1: address 0x50000, data 0x1234
        g.Machine.Bus.Write(msixBar + 24, 4, 0x1234);
        g.Start();
        g.Out(0x0E, 2, 0);
        g.Out(0x16, 2, 1);
        Assert.Equal(1u, g.In(0x16, 2));
        g.Out(0x16, 2, 7);
        Assert.Equal(0xFFFFu, g.In(0x16, 2));                       // beyond the table: no vector
        g.Out(0x16, 2, 1);

        g.RequestHeader(VirtioBlk.RequestIn, 0);
        g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);
        g.Submit(0, availFlags: 0);
        Assert.Equal(0u, g.Machine.Bus.Read(0x50000, 4));           // entry still masked: pending
        Assert.Equal(2u, g.Machine.Bus.Read(msixBar + 0x800, 4));
        g.Machine.Bus.Write(msixBar + 28, 4, 0);                     // unmask: delivered
        Assert.Equal(0x1234u, g.Machine.Bus.Read(0x50000, 4));
        Assert.False(g.Function.Irq.Level);
    }

    /// <summary>
    /// A whole-machine state file holds the virtio disk's device state (the machine restores it
    /// by name with the others): the restored machine's disk continues the queue where it was.
    /// </summary>
    [Fact]
    public void AStateFileCarriesTheDiskMidQueue()
    {
        using var g = new VirtioGuest();
        g.Start();
        g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);
        string file = Path.Combine(Path.GetTempPath(), $"emu-virtio-{Guid.NewGuid():N}.emustate");
        try
        {
            using (var snapshot = g.Machine.SaveSnapshot())
            using (var output = File.Create(file))
            {
                MachineStateFile.Write(output, snapshot, [true, false], null);
            }

            var loaded = MachineStateFile.Read(file);
            using var restored = PcMachine.FromSnapshot(loaded.Snapshot, new MachineOptions
            {
                RamSize = 16UL << 20,
                Flash = [new("code", new byte[0x10000], true), new("vars", Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(), false)],
                VirtioDrives = [new VirtioDrive(g.Backend)],
            });
            loaded.Snapshot.Dispose();
            var disk = restored.VirtioDisks[0];
            Assert.Equal((1, (byte)7, VirtioGuest.Ring), (disk.Block.Queue.UsedIndex, disk.Block.Status, disk.Block.Queue.Descriptors));

            // The guest's ring is in the restored RAM: one more request completes as the second.
            restored.Bus.Write(g.Avail + 4 + 2, 2, 0);
            restored.Bus.Write(g.Avail + 2, 2, 2);
            restored.Ports.Write(VirtioGuest.Bar0 + 0x10, 2, 0);
            Assert.Equal(2u, restored.Bus.Read(g.Used + 2, 2));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void TheStateSurvivesJsonAndAMachineResetRestoresPowerOn()
    {
        using var g = new VirtioGuest();
        g.Start();
        g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true);
        var saved = g.Function.SaveState();
        var json = JsonSerializer.Serialize<object>(saved);
        var back = (DeviceState)JsonSerializer.Deserialize(json, saved.GetType())!;

        using var other = new VirtioGuest();
        other.Function.RestoreState(back);
        Assert.Equal(json, JsonSerializer.Serialize<object>(other.Function.SaveState()));
        Assert.Equal(1, other.Function.Block.Queue.UsedIndex);
        Assert.Equal(7u, other.In(0x12, 1));
        Assert.Equal(VirtioGuest.Ring, other.Function.Block.Queue.Descriptors);
        Assert.Equal(VirtioGuest.DiskSectors, (int)other.In(0x14, 4));   // BAR0 where the restored BAR puts it

        using var fresh = new VirtioGuest();
        g.Function.Reset();
        fresh.Function.Reset();
        Assert.Equal(JsonSerializer.Serialize<object>(fresh.Function.SaveState()), JsonSerializer.Serialize<object>(g.Function.SaveState()));
    }
}
