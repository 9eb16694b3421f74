using Emulator.Core.Devices.Virtio;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// The modern (virtio 1.0) interface on BAR4, placed above 4 GiB where OVMF puts it: the register
/// values QEMU 7.2 gives (measured with the Shell's <c>mm</c> on QEMU with OVMF: device features
/// 0x30006E54 / 0x101, MSI-X config vector 0xFFFF, queue size 256, ring addresses 0 after a legacy
/// setup), and a virtio 1.0 driver's whole flow — VERSION_1 negotiation, FEATURES_OK, a smaller
/// queue with separate ring addresses, a request notified through the notify region — plus
/// QUEUE_RESET and the guest error of a bad QUEUE_ENABLE value.
/// </summary>
[Trait("Category", "Unit")]
public sealed class VirtioModernTests
{
    private const ulong Bar4 = 0xE0_0000_0000;
    private const ulong Desc = 0x40000;
    private const ulong Avail = 0x41000;
    private const ulong Used = 0x42000;

    [Fact]
    public void RegistersReadAsOnQemuAfterOvmfsLegacySetup()
    {
        using var g = Guest();
        g.Start();
        Assert.Equal(0x3000_6E54UL, Common(g, 0x04));
        SetCommon(g, 0x00, 1);
        Assert.Equal(0x101UL, Common(g, 0x04));                      // VERSION_1, RING_RESET
        SetCommon(g, 0x00, 2);
        Assert.Equal(0UL, Common(g, 0x04));
        Assert.Equal(0UL, Common(g, 0x0C));                          // the legacy negotiation is not the proxy's words
        Assert.Equal(0xFFFFUL, Common(g, 0x10));                     // a 4-byte read gets the register at its offset
        Assert.Equal(1UL, g.Machine.Bus.Read(Bar4 + 0x12, 2));
        Assert.Equal(7UL, Common(g, 0x14));
        Assert.Equal(256UL, Common(g, 0x18));
        Assert.Equal(0UL, Common(g, 0x1C));
        Assert.Equal(0UL, Common(g, 0x20));                          // the legacy PFN does not show here
        Assert.Equal(0UL, g.Machine.Bus.Read(Bar4 + 0x1000, 1));
        Assert.Equal((ulong)VirtioGuest.DiskSectors, g.Machine.Bus.Read(Bar4 + 0x2000, 8));
        Assert.Equal(0x200UL, Common(g, 0x2014));
        Assert.Equal(0xFFFF_FFFFUL, Common(g, 0x2038));              // past config_len
    }

    [Fact]
    public void AVirtio10DriverSetsUpASmallerQueueAndReads()
    {
        using var g = Guest();
        SetCommon(g, 0x14, 0);
        SetCommon(g, 0x14, 3);
        SetCommon(g, 0x08, 0);
        SetCommon(g, 0x0C, 0x640);
        SetCommon(g, 0x08, 1);
        SetCommon(g, 0x0C, 1);
        SetCommon(g, 0x14, 0xB);
        Assert.Equal(0xBUL, Common(g, 0x14));
        Assert.Equal(VirtioBlk.FeatureVersion1 | 0x640, g.Function.Block.GuestFeatures);
        SetCommon(g, 0x0C, 0);                                       // after FEATURES_OK: ignored
        Assert.Equal(VirtioBlk.FeatureVersion1 | 0x640, g.Function.Block.GuestFeatures);

        SetCommon(g, 0x16, 0);
        g.Machine.Bus.Write(Bar4 + 0x18, 2, 128);
        foreach (var (offset, address) in (ReadOnlySpan<(ulong, ulong)>)[(0x20, Desc), (0x28, Avail), (0x30, Used)])
        {
            SetCommon(g, offset, (uint)address);
            SetCommon(g, offset + 4, 0);
        }

        SetCommon(g, 0x1C, 1);
        SetCommon(g, 0x14, 0xF);
        Assert.Equal((128, Desc, Avail, Used), (g.Function.Block.Queue.Size, g.Function.Block.Queue.Descriptors, g.Function.Block.Queue.Avail, g.Function.Block.Queue.Used));
        Assert.Equal((1UL, Desc), (Common(g, 0x1C), Common(g, 0x20)));

        g.RequestHeader(VirtioBlk.RequestIn, 5);
        g.Descriptor(0, VirtioGuest.Header, 16, 1, 1, Desc);
        g.Descriptor(1, VirtioGuest.Data, 512, 3, 2, Desc);
        g.Descriptor(2, VirtioGuest.StatusByte, 1, 2, 0, Desc);
        g.Machine.Bus.Write(Avail, 2, 1);
        g.Machine.Bus.Write(Avail + 4, 2, 0);
        g.Machine.Bus.Write(Avail + 2, 2, 1);
        g.Machine.Bus.Write(Bar4 + 0x3000, 2, 0);                   // notify queue 0 (offset 0 × 4)

        Assert.Equal(VirtioBlk.StatusOk, g.Read(VirtioGuest.StatusByte, 1)[0]);
        Assert.Equal(g.Disk.AsSpan(5 * 512, 512).ToArray(), g.Read(VirtioGuest.Data, 512));
        Assert.Equal(1UL, g.Machine.Bus.Read(Used + 2, 2));
        Assert.Equal(513UL, g.Machine.Bus.Read(Used + 8, 4));

        SetCommon(g, 0x3A, 1);                                       // QUEUE_RESET
        Assert.Equal((0UL, 256UL), (Common(g, 0x1C), Common(g, 0x18)));
        Assert.False(g.Function.Block.Queue.IsSetUp);
    }

    [Fact]
    public void AWrongQueueEnableValueBreaksAVirtio10DeviceWithNeedsReset()
    {
        using var g = Guest();
        SetCommon(g, 0x08, 1);
        SetCommon(g, 0x0C, 1);
        SetCommon(g, 0x14, 0xF);
        SetCommon(g, 0x1C, 2);
        Assert.Equal("wrong value for queue_enable 2", g.Function.Block.Error);
        Assert.Equal(0x4FUL, Common(g, 0x14));                       // DEVICE_NEEDS_RESET
        Assert.Equal(2UL, g.Machine.Bus.Read(Bar4 + 0x1000, 1));     // the configuration-change bit
        Assert.Equal(1UL, Common(g, 0x15));                          // generation
        SetCommon(g, 0x14, 0);
        Assert.Equal((0UL, false), (Common(g, 0x14), g.Function.Block.Broken));
    }

    /// <summary>The PCI-configuration access capability (0x84): offset and length select modern registers, the data field at 0x94 reads and writes them.</summary>
    [Fact]
    public void TheConfigurationAccessCapabilityReachesTheModernRegisters()
    {
        using var g = Guest();
        g.Config(0x8C, 0x04);                                        // offset: device feature
        g.Config(0x90, 4);                                           // length 4
        Assert.Equal(0x3000_6E54u, g.Config(0x94));
        g.Config(0x8C, 0x00);
        g.Config(0x94, 1);                                           // device feature select = 1
        g.Config(0x8C, 0x04);
        Assert.Equal(0x101u, g.Config(0x94));
        g.Config(0x8C, 0x2014);
        g.Config(0x90, 2);
        Assert.Equal(0x200u, g.Config(0x94) & 0xFFFF);               // blk_size through a 2-byte access
        g.Config(0x90, 3);                                           // not 1, 2 or 4: the field keeps what it holds
        Assert.Equal(0x200u, g.Config(0x94) & 0xFFFF);
    }

    private static VirtioGuest Guest()
    {
        var g = new VirtioGuest();
        g.Config(0x20, 0);
        g.Config(0x24, (uint)(Bar4 >> 32));
        g.Config(0x04, 0x7, 2);
        return g;
    }

    private static ulong Common(VirtioGuest g, ulong offset) => g.Machine.Bus.Read(Bar4 + offset, 4);

    private static void SetCommon(VirtioGuest g, ulong offset, uint value) => g.Machine.Bus.Write(Bar4 + offset, 4, value);
}
