using Emulator.Core.Devices.Virtio;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// virtio-blk requests through the legacy interface as OVMF sends them (VirtioBlk.c
/// SynchronousRequest: header, data, status byte in descriptors 0–2, NO_INTERRUPT, notify 0,
/// poll the used index), with QEMU 7.2's answers (hw/block/virtio-blk.c): data, status byte, used
/// length = every device-writable byte; and a wrong guest, which breaks the device as QEMU's
/// virtio_error does instead of hanging or throwing.
/// </summary>
[Trait("Category", "Unit")]
public sealed class VirtioBlkTests
{
    [Fact]
    public void ReadFillsTheBufferAndCompletesWithTheUsedLength()
    {
        using var g = new VirtioGuest();
        g.Start();
        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestIn, 3, 2048, deviceWrites: true));
        Assert.Equal(g.Disk.AsSpan(3 * 512, 2048).ToArray(), g.Read(VirtioGuest.Data, 2048));
        Assert.Equal(1, g.UsedIndex);
        Assert.Equal((0u, 2049u), g.UsedEntry(0));
    }

    [Fact]
    public void WriteReachesTheMediumAndReportsOnlyTheStatusByte()
    {
        using var g = new VirtioGuest();
        g.Start();
        var bytes = Enumerable.Range(0, 1024).Select(i => (byte)(i ^ 0x5A)).ToArray();
        g.Machine.Bus.WriteBlock(VirtioGuest.Data, bytes);
        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestOut, 10, 1024, deviceWrites: false));
        Assert.Equal(bytes, g.Disk.AsSpan(10 * 512, 1024).ToArray());
        Assert.Equal((0u, 1u), g.UsedEntry(0));
    }

    [Fact]
    public void ChainedBuffersAreGatheredAndScatteredInOrder()
    {
        using var g = new VirtioGuest();
        g.Start();

        // ANY_LAYOUT: the header split over two descriptors, the data over three (one odd-sized),
        // the status byte at the end of the last device-writable buffer, descriptors out of order.
        g.RequestHeader(VirtioBlk.RequestIn, 1, VirtioGuest.Header);
        g.Descriptor(7, VirtioGuest.Header, 6, 1, 3);
        g.Descriptor(3, VirtioGuest.Header + 6, 10, 1, 9);
        g.Descriptor(9, VirtioGuest.Data, 100, 3, 4);
        g.Descriptor(4, VirtioGuest.Data + 0x1000, 412, 3, 5);
        g.Descriptor(5, VirtioGuest.Data + 0x2000, 513, 2);
        g.Submit(7);

        Assert.Equal(g.Disk.AsSpan(512, 100).ToArray(), g.Read(VirtioGuest.Data, 100));
        Assert.Equal(g.Disk.AsSpan(612, 412).ToArray(), g.Read(VirtioGuest.Data + 0x1000, 412));
        Assert.Equal(g.Disk.AsSpan(1024, 512).ToArray(), g.Read(VirtioGuest.Data + 0x2000, 512));
        Assert.Equal(0, g.Read(VirtioGuest.Data + 0x2000 + 512, 1)[0]);
        Assert.Equal((7u, 1025u), g.UsedEntry(0));
    }

    [Fact]
    public void AnIndirectTableIsWalkedLikeADirectChain()
    {
        using var g = new VirtioGuest();
        g.Start();
        const ulong table = 0x40000;
        g.RequestHeader(VirtioBlk.RequestIn, 2);
        g.Descriptor(0, VirtioGuest.Header, 16, 1, 1, table);
        g.Descriptor(1, VirtioGuest.Data, 512, 3, 2, table);
        g.Descriptor(2, VirtioGuest.StatusByte, 1, 2, 0, table);
        g.Descriptor(5, table, 48, VirtQueue.DescriptorIndirect);
        g.Submit(5);
        Assert.Equal(VirtioBlk.StatusOk, g.Read(VirtioGuest.StatusByte, 1)[0]);
        Assert.Equal(g.Disk.AsSpan(1024, 512).ToArray(), g.Read(VirtioGuest.Data, 512));
        Assert.Equal((5u, 513u), g.UsedEntry(0));
    }

    [Fact]
    public void AReadOnlyMediumRefusesWritesWithIoError()
    {
        using var g = new VirtioGuest(readOnly: true);
        var before = g.Disk.ToArray();
        g.Start();
        Assert.Equal(VirtioBlk.StatusIoError, g.Request(VirtioBlk.RequestOut, 0, 512, deviceWrites: false));
        Assert.Equal(before, g.Disk);
        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true));
    }

    [Theory]
    [InlineData(63UL, 1024u)]                            // runs past the last sector
    [InlineData(64UL, 512u)]
    [InlineData(ulong.MaxValue, 512u)]
    [InlineData(0UL, 500u)]                              // not whole sectors
    public void ARequestOutsideTheMediumIsAnIoError(ulong sector, uint length)
    {
        using var g = new VirtioGuest();
        g.Start();
        Assert.Equal(VirtioBlk.StatusIoError, g.Request(VirtioBlk.RequestIn, sector, length, deviceWrites: true));
        Assert.Equal(VirtioBlk.StatusIoError, g.Request(VirtioBlk.RequestOut, sector, length, deviceWrites: false));
        Assert.False(g.Function.Block.Broken);
    }

    [Fact]
    public void FlushGetIdAndUnknownTypesAnswerAsQemu()
    {
        using var g = new VirtioGuest();
        g.Start();
        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestFlush, 0, 0, deviceWrites: false));
        Assert.Equal((0u, 1u), g.UsedEntry(0));

        g.Machine.Bus.WriteBlock(VirtioGuest.Data, Enumerable.Repeat((byte)0xEE, 20).ToArray());
        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestGetId, 0, 20, deviceWrites: true));
        Assert.Equal(new byte[] { 0, 0xEE }, g.Read(VirtioGuest.Data, 2));   // no serial: the NUL alone

        Assert.Equal(VirtioBlk.StatusUnsupported, g.Request(0x20, 0, 0, deviceWrites: false));
        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestIn | 0x8000_0000, 0, 512, deviceWrites: true));   // BARRIER ignored
        Assert.Equal(4, g.UsedIndex);
    }

    /// <summary>
    /// DISCARD and WRITE_ZEROES as QEMU 7.2 answers them with its default discard=ignore: a
    /// discard changes nothing, write-zeroes zeroes the range; unknown flags, UNMAP on a discard or
    /// a type without the OUT bit are UNSUPP; a range outside the medium is IOERR.
    /// </summary>
    [Fact]
    public void DiscardAndWriteZeroesAnswerAsQemu()
    {
        using var g = new VirtioGuest();
        g.Start();
        var before = g.Disk.ToArray();
        Assert.Equal(VirtioBlk.StatusOk, Segment(g, VirtioBlk.RequestDiscard, 2, 3, 0));
        Assert.Equal(before, g.Disk);
        Assert.Equal(VirtioBlk.StatusOk, Segment(g, VirtioBlk.RequestWriteZeroes, 2, 3, 1));
        Assert.All(g.Disk.AsSpan(1024, 1536).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(before.AsSpan(2560).ToArray(), g.Disk.AsSpan(2560).ToArray());
        Assert.Equal(VirtioBlk.StatusUnsupported, Segment(g, VirtioBlk.RequestDiscard, 0, 1, 1));
        Assert.Equal(VirtioBlk.StatusUnsupported, Segment(g, VirtioBlk.RequestWriteZeroes, 0, 1, 2));
        Assert.Equal(VirtioBlk.StatusUnsupported, Segment(g, 10, 0, 1, 0));
        Assert.Equal(VirtioBlk.StatusIoError, Segment(g, VirtioBlk.RequestWriteZeroes, 63, 2, 0));
        Assert.False(g.Function.Block.Broken);
    }

    private static byte Segment(VirtioGuest g, uint type, ulong sector, uint count, uint flags)
    {
        var segment = new byte[16];
        BitConverter.TryWriteBytes(segment, sector);
        BitConverter.TryWriteBytes(segment.AsSpan(8), count);
        BitConverter.TryWriteBytes(segment.AsSpan(12), flags);
        g.Machine.Bus.WriteBlock(VirtioGuest.Data, segment);
        return g.Request(type, 0, 16, deviceWrites: false);
    }

    [Fact]
    public void EveryOfferedRequestCompletesOnOneNotify()
    {
        using var g = new VirtioGuest();
        g.Start();
        for (int i = 0; i < 3; i++)
        {
            ulong header = VirtioGuest.Header + (ulong)(i * 16);
            g.RequestHeader(VirtioBlk.RequestIn, (ulong)i, header);
            g.Descriptor(i * 3, header, 16, 1, (ushort)((i * 3) + 1));
            g.Descriptor((i * 3) + 1, VirtioGuest.Data + (ulong)(i * 512), 512, 3, (ushort)((i * 3) + 2));
            g.Descriptor((i * 3) + 2, VirtioGuest.StatusByte + (ulong)i, 1, 2);
            g.Machine.Bus.Write(g.Avail + 4 + (2UL * (ulong)i), 2, (ulong)(i * 3));
        }

        g.Machine.Bus.Write(g.Avail + 2, 2, 3);
        g.Out(0x10, 2, 0);
        Assert.Equal(3, g.UsedIndex);
        Assert.Equal(g.Disk.AsSpan(0, 1536).ToArray(), g.Read(VirtioGuest.Data, 1536));
        Assert.Equal((6u, 513u), g.UsedEntry(2));
    }

    [Fact]
    public void ALoopedChainBreaksTheDeviceUntilReset()
    {
        using var g = new VirtioGuest();
        g.Start();
        g.RequestHeader(VirtioBlk.RequestIn, 0);
        g.Descriptor(0, VirtioGuest.Header, 16, 1, 1);
        g.Descriptor(1, VirtioGuest.Data, 512, 3, 1);
        g.Submit(0);

        Assert.True(g.Function.Block.Broken);
        Assert.Equal("Looped descriptor", g.Function.Block.Error);
        Assert.Equal(0, g.UsedIndex);

        // Broken: further notifications do nothing, as in QEMU; a reset (status 0) recovers.
        g.Descriptor(1, VirtioGuest.Data, 512, 3, 2);
        g.Descriptor(2, VirtioGuest.StatusByte, 1, 2);
        g.Out(0x10, 2, 0);
        Assert.Equal(0, g.UsedIndex);
        g.Start();
        Assert.False(g.Function.Block.Broken);
        Assert.Equal(VirtioBlk.StatusOk, g.Request(VirtioBlk.RequestIn, 0, 512, deviceWrites: true));
    }

    [Theory]
    [InlineData("head", "Guest says index 300 is available")]
    [InlineData("next", "Desc next is 256")]
    [InlineData("buffer", "virtio: bogus descriptor or out of resources")]
    [InlineData("zero", "virtio: zero sized buffers are not allowed")]
    [InlineData("order", "Incorrect order for descriptors")]
    [InlineData("no-status", "virtio-blk missing headers")]
    [InlineData("short-header", "virtio-blk request outhdr too short")]
    [InlineData("avail", "Guest moved used index from 0 to 400")]
    [InlineData("indirect", "Invalid size for indirect buffer table")]
    public void AWrongChainIsReportedNotThrown(string mistake, string error)
    {
        using var g = new VirtioGuest();
        g.Start();
        g.RequestHeader(VirtioBlk.RequestIn, 0);
        g.Descriptor(0, VirtioGuest.Header, 16, 1, 1);
        g.Descriptor(1, VirtioGuest.Data, 512, 3, 2);
        g.Descriptor(2, VirtioGuest.StatusByte, 1, 2);
        ushort head = 0;
        switch (mistake)
        {
            case "head": head = 300; break;
            case "next": g.Descriptor(1, VirtioGuest.Data, 512, 3, 256); break;
            case "buffer": g.Descriptor(1, 0xFEC0_0000, 512, 3, 2); break;
            case "zero": g.Descriptor(1, VirtioGuest.Data, 0, 3, 2); break;
            case "order": g.Descriptor(1, VirtioGuest.Data, 512, 3, 3); g.Descriptor(3, VirtioGuest.Data, 16, 0); break;
            case "no-status": g.Descriptor(0, VirtioGuest.Header, 16, 0); break;
            case "short-header": g.Descriptor(0, VirtioGuest.Header, 8, 1, 1); break;
            case "indirect": g.Descriptor(0, 0x40000, 20, VirtQueue.DescriptorIndirect); break;
        }

        if (mistake == "avail")
        {
            g.Machine.Bus.Write(g.Avail + 2, 2, 400);
            g.Out(0x10, 2, 0);
        }
        else
        {
            g.Submit(head);
        }

        Assert.Equal(error, g.Function.Block.Error);
        Assert.True(g.Function.Block.Broken);
        Assert.Equal(0, g.UsedIndex);
    }

    [Fact]
    public void ARingOutsideRamIsReportedWhenItIsSet()
    {
        using var g = new VirtioGuest();
        g.Start(ring: 0xFEC0_0000);
        Assert.Equal("Cannot map desc", g.Function.Block.Error);
        g.Out(0x10, 2, 0);                                   // nothing to process, nothing thrown
        g.Start(ring: (16UL << 20) - 0x2000);                // the descriptors and avail ring fit; the used ring does not
        Assert.Equal("Cannot map used", g.Function.Block.Error);
    }

    /// <summary>
    /// Random rings (descriptors with addresses in and beyond RAM, lengths, flags, next indexes,
    /// heads and avail indexes, indirect tables included), 300 rounds: every notify returns — no
    /// host exception, no hang — and leaves the device either working (every chain it took
    /// answered) or broken with QEMU's message.
    /// </summary>
    [Fact]
    public void RandomRingsNeverThrowOrHang()
    {
        using var g = new VirtioGuest();
        var random = new Random(18);
        for (int round = 0; round < 300; round++)
        {
            g.Start();
            for (int i = 0; i < 256; i++)
            {
                ulong address = random.Next(8) == 0 ? (ulong)random.NextInt64() : (ulong)random.Next(0x1_0000, 0x100_0000);
                uint length = random.Next(8) == 0 ? (uint)random.NextInt64(uint.MaxValue) : (uint)random.Next(0, 0x2000);
                g.Descriptor(i, address, length, (ushort)random.Next(8), (ushort)random.Next(300));
            }

            for (int i = 0; i < 256; i++)
            {
                g.Machine.Bus.Write(g.Avail + 4 + (2UL * (ulong)i), 2, (ulong)random.Next(260));
            }

            ushort offered = (ushort)random.Next(random.Next(4) == 0 ? 65536 : 8);
            g.Machine.Bus.Write(g.Avail, 2, (ulong)random.Next(2));
            g.Machine.Bus.Write(g.Avail + 2, 2, offered);
            g.Out(0x10, 2, 0);

            // Read requests may land on the rings themselves, so the device's own positions are checked.
            var block = g.Function.Block;
            Assert.True(
                block.Broken ? block.Error != null : block.Queue.UsedIndex == block.Queue.LastAvailIndex,
                $"round {round}: took {block.Queue.LastAvailIndex}, used {block.Queue.UsedIndex}, error {block.Error}");
        }
    }

    [Fact]
    public void AnOverlongChainStopsAtTheQueueSize()
    {
        using var g = new VirtioGuest();
        g.Start();
        g.RequestHeader(VirtioBlk.RequestIn, 0);
        g.Descriptor(0, VirtioGuest.Header, 16, 1, 1);
        for (int i = 1; i < 256; i++)
        {
            g.Descriptor(i, VirtioGuest.Data, 512, 3, (ushort)((i % 255) + 1));
        }

        g.Submit(0);
        Assert.Equal("Looped descriptor", g.Function.Block.Error);
    }
}
