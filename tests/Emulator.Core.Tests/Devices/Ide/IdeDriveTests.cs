using System.Text;
using System.Text.Json;
using Emulator.Core.Devices;
using Emulator.Core.Devices.Ide;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Core.Tests.Devices.Ide;

/// <summary>
/// IDE drives on the pc machine through its ports: what QEMU refuses when a drive is created,
/// IDENTIFY words against hw/ide/core.c ide_identify / ide_identify_size, 48-bit addressing past
/// 2^28 sectors, the interrupt sequence of a PIO read, backend errors as the guest sees them, and
/// snapshots taken in the middle of a transfer. (The register-level answers are compared with
/// QEMU 7.2 itself in <see cref="IdeQemuTranscriptTests"/>.)
/// </summary>
[Trait("Category", "Unit")]
public sealed class IdeDriveTests
{
    private static readonly FlashImage Code = new("code", new byte[0x200000], true);

    [Fact]
    public void QemusRefusalsWhenADriveIsCreated()
    {
        var readOnly = new MemoryBlockBackend(new byte[1 << 20], readOnly: true);
        var e = Assert.Throws<ArgumentException>(() => Machine(IdeDrive.Disk(0, readOnly)));
        Assert.Contains("Block node is read-only", e.Message, StringComparison.Ordinal);
        Assert.Contains("Device needs media", Assert.Throws<ArgumentException>(() => Machine(new IdeDrive(1, IdeDriveKind.Disk, null))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Machine(IdeDrive.Disk(4, Disk(16))));
        Assert.Contains("two IDE drives at index 2", Assert.Throws<ArgumentException>(() => Machine(IdeDrive.CdRom(null), IdeDrive.Disk(2, Disk(16)))).Message, StringComparison.Ordinal);

        // q35: index N is AHCI port N, six of them (one unit each).
        Assert.Throws<ArgumentOutOfRangeException>(() => new PcMachine(new MachineOptions { Flash = [Code], Chipset = PcChipset.Q35, IdeDrives = [IdeDrive.Disk(6, Disk(16))] }));
        Assert.Contains("Block node is read-only", Assert.Throws<ArgumentException>(() => new PcMachine(new MachineOptions { Flash = [Code], Chipset = PcChipset.Q35, IdeDrives = [IdeDrive.Disk(5, readOnly)] })).Message, StringComparison.Ordinal);
        using (var q35 = new PcMachine(new MachineOptions { Flash = [Code], Chipset = PcChipset.Q35, IdeDrives = [IdeDrive.Disk(5, Disk(16)), IdeDrive.CdRom(null, 3)] }))
        {
            Assert.Equal(IdeDriveKind.Disk, q35.Ahci.Hba.Devices[5]!.Kind);
            Assert.Equal(IdeDriveKind.CdRom, q35.Ahci.Hba.Devices[3]!.Kind);
            Assert.Null(q35.Ahci.Hba.Devices[0]);
        }

        // A read-only medium is what a CD-ROM has; an empty CD-ROM drive is QEMU's default one.
        using var m = Machine(IdeDrive.CdRom(readOnly), IdeDrive.CdRom(null, 3));
        Assert.Equal(IdeDriveKind.CdRom, m.Ide.Channels[1].Devices[1].Kind);
    }

    [Fact]
    public void IdentifyWordsFollowQemusIdeIdentifyForADiskPast128GiB()
    {
        // 2^28 + 0x1234 sectors: word 60-61 stop at 2^28 - 1 (ide_identify_size), 100-103 hold it all;
        // 16383 cylinders of 16 heads × 63 sectors (guess_chs_for_size), QEMU's strings (padstr).
        long sectors = (1L << 28) + 0x1234;
        using var m = Machine(IdeDrive.Disk(1, new SparseBackend(sectors * 512)));
        Select(m, 0xF0);
        m.Ports.Write(0x1F7, 1, 0xEC);
        var w = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            w[i] = (ushort)m.Ports.Read(0x1F0, 2);
        }

        Assert.Equal((0x0040, 16383, 16, 63), (w[0], w[1], w[3], w[6]));
        Assert.Equal("QM00002", AtaString(w, 10, 20).TrimEnd());
        Assert.Equal("2.5+", AtaString(w, 23, 8).TrimEnd());
        Assert.Equal("QEMU HARDDISK", AtaString(w, 27, 40).TrimEnd());
        Assert.Equal((0x8010, 0x0B00, 0x0110), (w[47], w[49], w[59]));
        Assert.Equal((0xFFFF, 0x0FFF), (w[60], w[61]));
        Assert.Equal((0x1234, 0x1000, 0, 0), (w[100], w[101], w[102], w[103]));
        Assert.Equal((0x7400, 0x4021, 0x203F), (w[83], w[85], w[88]));
    }

    [Fact]
    public void ReadSectorsExtReachesBeyondTheLba28Limit()
    {
        long sectors = (1L << 28) + 16;
        var backend = new SparseBackend(sectors * 512);
        using var m = Machine(IdeDrive.Disk(0, backend));
        long lba = (1L << 28) + 5;
        WriteLba48(m, lba, 1);
        m.Ports.Write(0x1F7, 1, IdeDevice.Command.ReadSectorsExt);
        Assert.Equal(0x58u, m.Ports.Read(0x1F7, 1));
        var data = ReadBlock(m, 512);
        Assert.Equal(lba * 512, BitConverter.ToInt64(data));

        // READ NATIVE MAX EXT: the last sector, bits 24–31 in the HOB byte of LBA low.
        Assert.Equal(0x50u, m.Ports.Read(0x1F7, 1));
        m.Ports.Write(0x1F7, 1, IdeDevice.Command.ReadNativeMaxExt);
        m.Ports.Write(0x3F6, 1, IdeChannel.ControlHighOrderByte);
        Assert.Equal(0x10u, m.Ports.Read(0x1F3, 1));
        m.Ports.Write(0x3F6, 1, 0);
    }

    [Fact]
    public void APioReadInterruptsOncePerBlockAndTheStatusReadAcknowledges()
    {
        var image = IdeQemuTranscriptTests.PatternImage(64);
        using var m = Machine(IdeDrive.Disk(0, new MemoryBlockBackend(image)));
        var ch = m.Ide.Channels[0];
        Select(m, 0xE0);
        m.Ports.Write(0x1F2, 1, 2);
        m.Ports.Write(0x1F3, 1, 7);
        m.Ports.Write(0x1F7, 1, IdeDevice.Command.ReadSectors);
        Assert.True(ch.InterruptPending);
        Assert.Equal(0x58u, m.Ports.Read(0x3F6, 1));
        Assert.True(ch.InterruptPending);
        Assert.Equal(0x58u, m.Ports.Read(0x1F7, 1));
        Assert.False(ch.InterruptPending);
        Assert.Equal(image.AsSpan(7 * 512, 512).ToArray(), ReadBlock(m, 512));
        Assert.True(ch.InterruptPending);
        m.Ports.Read(0x1F7, 1);
        Assert.Equal(image.AsSpan(8 * 512, 512).ToArray(), ReadBlock(m, 512));
        Assert.False(ch.InterruptPending);
        Assert.Equal(0x50u, m.Ports.Read(0x1F7, 1));
    }

    [Fact]
    public void ABackendThatFailsAWriteIsAnAbortedCommandNotAHostError()
    {
        var failing = new FailingBackend(64 * 512);
        using var m = Machine(IdeDrive.Disk(0, failing));
        Select(m, 0xE0);
        m.Ports.Write(0x1F2, 1, 1);
        m.Ports.Write(0x1F7, 1, IdeDevice.Command.WriteSectors);
        for (int i = 0; i < 256; i++)
        {
            m.Ports.Write(0x1F0, 2, 0xABCD);
        }

        Assert.True(m.Ide.Channels[0].InterruptPending);
        Assert.Equal(IdeDevice.StatusReady | IdeDevice.StatusError, (int)m.Ports.Read(0x1F7, 1));
        Assert.Equal(IdeDevice.ErrorAbort, (int)m.Ports.Read(0x1F1, 1));
        var device = m.Ide.Channels[0].Devices[0];
        Assert.Equal(1, device.IoErrors);
        Assert.Contains("host refused", device.LastIoError, StringComparison.Ordinal);

        m.Ports.Write(0x1F7, 1, IdeDevice.Command.FlushCache);
        Assert.Equal(0x41u, m.Ports.Read(0x1F7, 1));
        Assert.Equal(2, device.IoErrors);
    }

    [Fact]
    public void ASnapshotInTheMiddleOfAPioReadResumesWhereItStopped()
    {
        var image = IdeQemuTranscriptTests.PatternImage(64);
        using var m = Machine(IdeDrive.Disk(0, new MemoryBlockBackend(image)), IdeDrive.CdRom(new MemoryBlockBackend(new byte[8 * 2048], readOnly: true)));
        Select(m, 0xE0);
        m.Ports.Write(0x1F2, 1, 2);
        m.Ports.Write(0x1F3, 1, 3);
        m.Ports.Write(0x1F7, 1, IdeDevice.Command.ReadMultiple);
        var first = ReadBlock(m, 100);

        // Saved through JSON by runtime type, as machine snapshots are.
        var saved = m.Ide.SaveState();
        var json = JsonSerializer.Serialize<object>(saved);
        var restored = (DeviceState)JsonSerializer.Deserialize(json, saved.GetType())!;
        using var other = Machine(IdeDrive.Disk(0, new MemoryBlockBackend(image)), IdeDrive.CdRom(new MemoryBlockBackend(new byte[8 * 2048], readOnly: true)));
        other.Ide.RestoreState(restored);

        var rest = ReadBlock(other, 1024 - 100);
        Assert.Equal(image.AsSpan(3 * 512, 1024).ToArray(), first.Concat(rest).ToArray());
        Assert.Equal(0x50u, other.Ports.Read(0x1F7, 1));
        Assert.Equal(5u, other.Ports.Read(0x1F3, 1));

        // A record from a machine with other drive kinds is refused.
        using var diskless = Machine();
        Assert.Throws<ArgumentException>(() => diskless.Ide.RestoreState(restored));
    }

    private static PcMachine Machine(params IdeDrive[] drives) => new(new MachineOptions { Flash = [Code], IdeDrives = drives });

    private static MemoryBlockBackend Disk(int sectors) => new(new byte[sectors * 512]);

    private static void Select(PcMachine m, byte deviceHead) => m.Ports.Write(0x1F6, 1, deviceHead);

    private static void WriteLba48(PcMachine m, long lba, int count)
    {
        m.Ports.Write(0x1F2, 1, (uint)(count >> 8));
        m.Ports.Write(0x1F2, 1, (uint)count & 0xFF);
        for (int i = 0; i < 3; i++)
        {
            m.Ports.Write((ushort)(0x1F3 + i), 1, (uint)(lba >> (24 + (8 * i))) & 0xFF);
            m.Ports.Write((ushort)(0x1F3 + i), 1, (uint)(lba >> (8 * i)) & 0xFF);
        }

        m.Ports.Write(0x1F6, 1, IdeDevice.DeviceLba);
    }

    private static byte[] ReadBlock(PcMachine m, int bytes)
    {
        var data = new byte[bytes];
        for (int i = 0; i < bytes; i += 2)
        {
            BitConverter.TryWriteBytes(data.AsSpan(i), (ushort)m.Ports.Read(0x1F0, 2));
        }

        return data;
    }

    private static string AtaString(ushort[] words, int first, int length)
    {
        var s = new StringBuilder();
        for (int i = 0; i < length / 2; i++)
        {
            s.Append((char)(words[first + i] >> 8)).Append((char)(words[first + i] & 0xFF));
        }

        return s.ToString();
    }

    /// <summary>A large medium whose every 8-byte word holds its own byte offset (no memory behind it).</summary>
    private sealed class SparseBackend(long length) : IBlockBackend
    {
        public long Length => length;

        public bool ReadOnly => false;

        public void Read(long offset, Span<byte> destination)
        {
            for (int i = 0; i + 8 <= destination.Length; i += 8)
            {
                BitConverter.TryWriteBytes(destination[i..], offset + i);
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> source) => throw new BlockBackendException("not written in these tests");

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A writable medium whose host refuses every write and flush (a full or failing disk).</summary>
    private sealed class FailingBackend(long length) : IBlockBackend
    {
        public long Length => length;

        public bool ReadOnly => false;

        public void Read(long offset, Span<byte> destination) => destination.Clear();

        public void Write(long offset, ReadOnlySpan<byte> source) => throw new BlockBackendException("the host refused the write");

        public void Flush() => throw new BlockBackendException("the host refused the flush");

        public void Dispose()
        {
        }
    }
}
