using System.Text;
using System.Text.Json;
using Emulator.Core.Devices;
using Emulator.Core.Devices.Ide;
using Emulator.Core.Devices.Q35;
using Emulator.Core.Machine;
using Emulator.Core.Storage;

namespace Emulator.Core.Tests.Devices;

/// <summary>
/// The ICH9 AHCI HBA of the q35 machine with drives, driven through the bus as a guest drives it
/// (command list, command tables and PRDTs in RAM, the port registers in ABAR): IDENTIFY by PIO
/// through the PRDT, READ DMA EXT into a PRDT of odd-sized entries, WRITE DMA EXT, an ATAPI
/// PACKET READ(10) by DMA, the received FISes, interrupt status and its INTx line, COMRESET and
/// the signatures — the values QEMU 7.2's ahci.c produces (the reset task files 0x130/0x101 and
/// the PSS/DHRS sequence are also what `-trace ahci_*` shows for OVMF's boot on QEMU).
/// </summary>
[Trait("Category", "Unit")]
public sealed class AhciTests
{
    private const ulong Abar = 0xE000_0000;
    private const ulong CommandList = 0x10000;
    private const ulong FisArea = 0x11000;
    private const ulong Table = 0x12000;
    private const ulong Data = 0x20000;
    private const int Ahci = (31 << 3) | 2;
    private const int DiskSectors = 64;

    [Fact]
    public void FisReceiveReportsTheDiskAndCdRomSignatures()
    {
        var (m, _, _) = Machine();
        using (m)
        {
            Start(m, 0);
            Assert.Equal(0x113UL, Port(m, 0, 0x28));                     // PxSSTS: device, Gen1, active
            Assert.Equal(0x0000_0101UL, Port(m, 0, 0x24));               // PxSIG: ATA
            Assert.Equal(0x130UL, Port(m, 0, 0x20));                     // PxTFD: error 1, DSC | DWF
            Assert.Equal(1UL, Port(m, 0, 0x10));                         // PxIS.DHRS
            var fis = Read(m, FisArea + 0x40, 20);
            Assert.Equal(new byte[] { 0x34, 0x40, 0x30, 0x01, 0x01, 0x00, 0x00, 0xA0, 0, 0, 0, 0, 0x01 }, fis[..13]);

            Start(m, 2);
            Assert.Equal(0xEB14_0101UL, Port(m, 2, 0x24));               // PxSIG: ATAPI
            Assert.Equal(0x170UL, Port(m, 2, 0x20));                     // DRDY too
            Assert.Equal(0UL, Port(m, 1, 0x28));                         // no drive on port 1
        }
    }

    [Fact]
    public void IdentifyGoesThroughThePrdtWithAPioSetupFis()
    {
        var (m, _, _) = Machine();
        using (m)
        {
            Start(m, 0);
            Port(m, 0, 0x10, 0xFFFF_FFFF);
            Issue(m, 0, slot: 3, command: 0xEC, opts: 0, prdt: [(Data, 512)]);

            Assert.Equal(0UL, Port(m, 0, 0x38));                         // PxCI: done
            Assert.Equal(3UL, Port(m, 0, 0x10));                         // PSS and DHRS
            Assert.Equal(512u, PrdByteCount(m, 3));
            var words = Read(m, Data, 512);
            Assert.Equal("QM00001", Encoding.ASCII.GetString(Swap(words.AsSpan(20, 20))).TrimEnd());
            Assert.Equal("QEMU HARDDISK", Encoding.ASCII.GetString(Swap(words.AsSpan(54, 40))).TrimEnd());
            Assert.Equal(DiskSectors, BitConverter.ToInt32(words, 120));
            var pio = Read(m, FisArea + 0x20, 20);
            Assert.Equal((0x5F, 0x40, 0x58, 0x58), (pio[0], pio[1], pio[2], pio[15]));   // DRQ during the block
            Assert.Equal(512, BitConverter.ToUInt16(pio, 16));
            Assert.Equal(0x50, Read(m, FisArea + 0x40, 20)[2]);
            Assert.Equal(0x50UL, Port(m, 0, 0x20));
        }
    }

    [Fact]
    public void ReadDmaExtScattersIntoAMultiEntryPrdt()
    {
        var (m, disk, _) = Machine();
        using (m)
        {
            Start(m, 0);
            Port(m, 0, 0x10, 0xFFFF_FFFF);
            Issue(m, 0, slot: 0, command: 0x25, opts: 0, prdt: [(Data, 700), (Data + 0x1000, 300), (Data + 0x2000, 1000)], lba: 5, count: 3);

            Assert.Equal(0UL, Port(m, 0, 0x38));
            Assert.Equal(1UL, Port(m, 0, 0x10));                         // DHRS only: no PIO
            Assert.Equal(1536u, PrdByteCount(m, 0));
            var expected = disk.AsSpan(5 * 512, 1536).ToArray();
            Assert.Equal(expected[..700], Read(m, Data, 700));
            Assert.Equal(expected[700..1000], Read(m, Data + 0x1000, 300));
            Assert.Equal(expected[1000..], Read(m, Data + 0x2000, 536));
            Assert.Equal(0, Read(m, Data + 0x2000 + 536, 1)[0]);          // the last entry only as far as needed
            var d2h = Read(m, FisArea + 0x40, 20);
            Assert.Equal((0x50, 0x00, 8), (d2h[2], d2h[3], d2h[4]));     // the LBA after the transfer
        }
    }

    [Fact]
    public void WriteDmaExtReachesTheMedium()
    {
        var (m, disk, _) = Machine();
        using (m)
        {
            Start(m, 0);
            var data = Enumerable.Range(0, 1024).Select(i => (byte)(i * 13)).ToArray();
            m.Bus.WriteBlock(Data, data);
            Issue(m, 0, slot: 1, command: 0x35, opts: 0x40, prdt: [(Data, 1024)], lba: 10, count: 2);

            Assert.Equal(0UL, Port(m, 0, 0x38));
            Assert.Equal(1024u, PrdByteCount(m, 1));
            Assert.Equal(data, disk[(10 * 512)..(12 * 512)]);
            Assert.Equal(0x50UL, Port(m, 0, 0x20));
        }
    }

    [Fact]
    public void AtapiPacketRead10MovesA2048ByteSector()
    {
        var (m, _, cd) = Machine();
        using (m)
        {
            Start(m, 2);
            Port(m, 2, 0x10, 0xFFFF_FFFF);
            byte[] packet = [0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0];     // READ(10) LBA 3, one block
            Issue(m, 2, slot: 0, command: 0xA0, opts: 0x20, prdt: [(Data, 1024), (Data + 0x1000, 1024)], features: 1, packet: packet);

            Assert.Equal(0UL, Port(m, 2, 0x38));
            Assert.Equal(2048u, PrdByteCount(m, 0));
            Assert.Equal(cd[(3 * 2048)..((3 * 2048) + 1024)], Read(m, Data, 1024));
            Assert.Equal(cd[((3 * 2048) + 1024)..(4 * 2048)], Read(m, Data + 0x1000, 1024));
            Assert.Equal(1UL, Port(m, 2, 0x10));                         // the packet's PIO setup FIS has no I bit: no PSS
            var d2h = Read(m, FisArea + 0x40, 20);
            Assert.Equal((0x50, 0x03), (d2h[2], d2h[12]));               // interrupt reason I/O | C/D

            // An unknown opcode: CHECK CONDITION, TFES and the sense key in the error register.
            Port(m, 2, 0x10, 0xFFFF_FFFF);
            Issue(m, 2, slot: 0, command: 0xA0, opts: 0x20, prdt: [(Data, 2048)], packet: [0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            Assert.Equal(0x4000_0001UL, Port(m, 2, 0x10));               // TFES | DHRS
            Assert.Equal(0x5041UL, Port(m, 2, 0x20));                    // ILLEGAL REQUEST, DRDY | ERR
        }
    }

    [Fact]
    public void PortInterruptsReachIsAndTheIntxLine()
    {
        var (m, _, _) = Machine();
        using (m)
        {
            Start(m, 0);
            Assert.False(m.Ahci.Irq.Level);
            Port(m, 0, 0x14, 0x1);                                       // PxIE.DHRE
            Assert.Equal(1UL, m.Bus.Read(Abar + 0x08, 4));              // IS: port 0
            Assert.False(m.Ahci.Irq.Level);                              // GHC.IE off
            m.Bus.Write(Abar + 0x04, 4, 2);
            Assert.True(m.Ahci.Irq.Level);
            Port(m, 0, 0x10, 1);
            Assert.Equal(0UL, m.Bus.Read(Abar + 0x08, 4));
            Assert.False(m.Ahci.Irq.Level);
            Issue(m, 0, slot: 0, command: 0xEC, opts: 0, prdt: [(Data, 512)]);
            Assert.True(m.Ahci.Irq.Level);                               // DHRS of the completion
            Assert.Equal(3UL, Port(m, 0, 0x10));
        }
    }

    [Fact]
    public void ComresetSendsTheSignatureAgain()
    {
        var (m, _, _) = Machine();
        using (m)
        {
            Start(m, 0);
            Issue(m, 0, slot: 0, command: 0xEC, opts: 0, prdt: [(Data, 512)]);
            Assert.Equal(0x50UL, Port(m, 0, 0x20));
            Port(m, 0, 0x10, 0xFFFF_FFFF);
            Port(m, 0, 0x2C, 1);                                         // SCTL.DET = 1 …
            Port(m, 0, 0x2C, 0);                                         // … and released: COMRESET
            Assert.Equal(0x130UL, Port(m, 0, 0x20));
            Assert.Equal(0x101UL, Port(m, 0, 0x24));
            Assert.Equal(1UL, Port(m, 0, 0x10));
            Assert.Equal(0x30, Read(m, FisArea + 0x40, 20)[2]);
        }
    }

    [Fact]
    public void A65536SectorPioReadRunsBlockAfterBlockWithoutNesting()
    {
        // READ SECTORS EXT with a count of 0 (65536 sectors, one PIO block each) into one 1 MiB
        // buffer described 32 times: QEMU's asynchronous reads never nest; here the blocks run in turn.
        var disk = new byte[65536 * 512];
        BitConverter.TryWriteBytes(disk.AsSpan(65535 * 512), 0xC0FFEEu);
        using var m = new PcMachine(new MachineOptions
        {
            Chipset = PcChipset.Q35,
            RamSize = 16UL << 20,
            Flash = [new("code", new byte[0x10000], true)],
            IdeDrives = [IdeDrive.Disk(1, new MemoryBlockBackend(disk))],
        });
        Config(m, 0x24, (uint)Abar);
        Config(m, 0x04, 0x6, 2);
        Start(m, 1);
        Issue(m, 1, slot: 0, command: 0x24, opts: 0, prdt: [.. Enumerable.Repeat((0x10_0000UL, 1 << 20), 32)]);

        Assert.Equal(0UL, Port(m, 1, 0x38));
        Assert.Equal(32u << 20, PrdByteCount(m, 0));
        Assert.Equal(0xC0FFEEu, BitConverter.ToUInt32(Read(m, 0x10_0000 + (1 << 20) - 512, 4)));
        Assert.Equal(0x50UL, Port(m, 1, 0x20));
    }

    [Fact]
    public void GuestMistakesEndCommandsWithoutHarmingTheHost()
    {
        var (m, _, _) = Machine();
        using (m)
        {
            Start(m, 0);

            // READ DMA EXT with no PRDT entries: the transfer stops without data (QEMU's short-PRDT rule), the slot clears.
            Port(m, 0, 0x10, 0xFFFF_FFFF);
            Issue(m, 0, slot: 0, command: 0x25, opts: 0, prdt: [], lba: 1, count: 1);
            Assert.Equal(0UL, Port(m, 0, 0x38));
            Assert.Equal(0u, PrdByteCount(m, 0));

            // Past the medium's end: ABRT with TFES.
            Port(m, 0, 0x10, 0xFFFF_FFFF);
            Issue(m, 0, slot: 0, command: 0x25, opts: 0, prdt: [(Data, 1024)], lba: DiskSectors - 1, count: 2);
            Assert.Equal(0x0441UL, Port(m, 0, 0x20));                    // ABRT, DRDY | ERR
            Assert.Equal(0x4000_0001UL, Port(m, 0, 0x10));

            // A PRDT into unmapped space: the data goes nowhere, the command completes.
            Issue(m, 0, slot: 1, command: 0x25, opts: 0, prdt: [(0xFFFF_0000_0000, 4096)], lba: 0, count: 8);
            Assert.Equal(0UL, Port(m, 0, 0x38));
            Assert.Equal(0x50UL, Port(m, 0, 0x20));

            // A PRDT onto the HBA's own registers: the sectors land in ABAR (resetting the HBA on the
            // way, leaving whatever slots the data issued); the host carries on.
            Issue(m, 0, slot: 2, command: 0x25, opts: 0, prdt: [(Abar, 4096)], lba: 0, count: 8);
            Assert.Equal(AhciHba.Capabilities, m.Bus.Read(Abar, 4));
        }
    }

    [Fact]
    public void ASnapshotRestoresTheHbaAndItsDrives()
    {
        var (m, _, _) = Machine();
        using (m)
        {
            Start(m, 0);
            Issue(m, 0, slot: 0, command: 0xEC, opts: 0, prdt: [(Data, 512)]);
            var saved = m.Ahci.SaveState();
            var json = JsonSerializer.Serialize<object>(saved);
            var (other, _, _) = Machine();
            using (other)
            {
                other.Ahci.RestoreState((DeviceState)JsonSerializer.Deserialize(json, saved.GetType())!);
                Assert.Equal(json, JsonSerializer.Serialize<object>(other.Ahci.SaveState()));
                Assert.Equal(0x50UL, Port(other, 0, 0x20));
            }
        }
    }

    private static (PcMachine Machine, byte[] Disk, byte[] Cd) Machine()
    {
        var disk = Enumerable.Range(0, DiskSectors * 512).Select(i => (byte)((i * 7) + (i >> 9))).ToArray();
        var cd = Enumerable.Range(0, 8 * 2048).Select(i => (byte)((i * 3) + (i >> 11))).ToArray();
        var m = new PcMachine(new MachineOptions
        {
            Chipset = PcChipset.Q35,
            RamSize = 16UL << 20,
            Flash = [new("code", new byte[0x10000], true), new("vars", Enumerable.Repeat((byte)0xFF, 0x20000).ToArray(), false)],
            IdeDrives = [IdeDrive.Disk(0, new MemoryBlockBackend(disk)), IdeDrive.CdRom(new MemoryBlockBackend(cd, readOnly: true))],
        });
        Config(m, 0x24, (uint)Abar);
        Config(m, 0x04, 0x6, 2);
        return (m, disk, cd);
    }

    private static void Config(PcMachine m, int register, uint value, int size = 4)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (Ahci << 8) | (uint)(register & 0xFC));
        m.Ports.Write((ushort)(0xCFC + (register & 3)), size, value);
    }

    /// <summary>What OVMF does per port: command list and FIS bases, FRE, then ST.</summary>
    private static void Start(PcMachine m, int port)
    {
        Port(m, port, 0x00, (uint)CommandList);
        Port(m, port, 0x08, (uint)FisArea);
        Port(m, port, 0x18, 0x16);
        Port(m, port, 0x18, 0x17);
    }

    private static ulong Port(PcMachine m, int port, int register) => m.Bus.Read(Abar + 0x100 + (ulong)(port * 0x80) + (ulong)register, 4);

    private static void Port(PcMachine m, int port, int register, uint value) => m.Bus.Write(Abar + 0x100 + (ulong)(port * 0x80) + (ulong)register, 4, value);

    /// <summary>A command header in <paramref name="slot"/>, its table (H2D FIS, ATAPI packet, PRDT), and PxCI.</summary>
    private static void Issue(PcMachine m, int port, int slot, byte command, ushort opts, (ulong Address, int Length)[] prdt, long lba = 0, int count = 0, byte features = 0, byte[]? packet = null)
    {
        var header = new byte[32];
        BitConverter.TryWriteBytes(header.AsSpan(0), (ushort)(opts | 5));
        BitConverter.TryWriteBytes(header.AsSpan(2), (ushort)prdt.Length);
        BitConverter.TryWriteBytes(header.AsSpan(4), 0xDEADu);
        BitConverter.TryWriteBytes(header.AsSpan(8), Table);
        m.Bus.WriteBlock(CommandList + (ulong)(slot * 32), header);
        var table = new byte[0x80 + (prdt.Length * 16)];
        table[0] = 0x27;
        table[1] = 0x80;
        table[2] = command;
        table[3] = features;
        (table[4], table[5], table[6], table[7]) = ((byte)lba, (byte)(lba >> 8), (byte)(lba >> 16), 0x40);
        (table[8], table[9], table[10]) = ((byte)(lba >> 24), (byte)(lba >> 32), (byte)(lba >> 40));
        (table[12], table[13]) = ((byte)count, (byte)(count >> 8));
        packet?.CopyTo(table, 0x40);
        for (int i = 0; i < prdt.Length; i++)
        {
            BitConverter.TryWriteBytes(table.AsSpan(0x80 + (i * 16)), prdt[i].Address);
            BitConverter.TryWriteBytes(table.AsSpan(0x80 + (i * 16) + 12), (uint)(prdt[i].Length - 1));
        }

        m.Bus.WriteBlock(Table, table);
        Port(m, port, 0x38, 1u << slot);
    }

    private static uint PrdByteCount(PcMachine m, int slot) => BitConverter.ToUInt32(Read(m, CommandList + (ulong)(slot * 32) + 4, 4));

    private static byte[] Read(PcMachine m, ulong address, int length)
    {
        var bytes = new byte[length];
        m.Bus.ReadBlock(address, bytes);
        return bytes;
    }

    private static byte[] Swap(ReadOnlySpan<byte> ata)
    {
        var bytes = ata.ToArray();
        for (int i = 0; i + 1 < bytes.Length; i += 2)
        {
            (bytes[i], bytes[i + 1]) = (bytes[i + 1], bytes[i]);
        }

        return bytes;
    }
}
