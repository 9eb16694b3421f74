using Emulator.Core.Devices.Q35;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// The Q35 MCH (00:00.0) as QEMU 7.2's hw/pci-host/q35.c has it: identification, the SMRAM and
/// ESMRAMC write masks and D_LCK, the extended-TSEG and SMBASE-control registers, PCIEXBAR and
/// the ECAM window it places, PAM on both boards and the SMRAM decoding of the two memory views.
/// </summary>
[Trait("Category", "Unit")]
public sealed unsafe class Q35MchTests
{
    private const ulong Ecam = 0xB000_0000;

    [Fact]
    public void TheBusHasQemusFunctionsOnQ35()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(0x29C0_8086u, Q35Board.Read(m, 0, 0));
        Assert.Equal(0x0600_0000u, Q35Board.Read(m, 0, 8));
        Assert.Equal(0x2918_8086u, Q35Board.Read(m, Q35Board.Lpc, 0));
        Assert.Equal(0x0601_0002u, Q35Board.Read(m, Q35Board.Lpc, 8));
        Assert.Equal(0x80u, Q35Board.Read(m, Q35Board.Lpc, 0x0E, 1));
        Assert.Equal(0x2922_8086u, Q35Board.Read(m, Q35Board.Ahci, 0));
        Assert.Equal(0x0106_0102u, Q35Board.Read(m, Q35Board.Ahci, 8));
        Assert.Equal(0x2930_8086u, Q35Board.Read(m, Q35Board.Smbus, 0));
        Assert.Equal(0x0C05_0002u, Q35Board.Read(m, Q35Board.Smbus, 8));
        Assert.Equal(0xFFFF_FFFFu, Q35Board.Read(m, 1 << 3, 0));        // no VGA, no e1000e under -nodefaults
        Assert.Equal(0xFFFF_FFFFu, Q35Board.Read(m, 2 << 3, 0));
        Assert.Equal(0x01u, Q35Board.Read(m, Q35Board.Lpc, 0x82, 1) & 0x01);   // LPC_EN: COM1 decodes
        foreach (int devfn in (int[])[0, Q35Board.Lpc, Q35Board.Ahci, Q35Board.Smbus])
        {
            Assert.Equal(0x1100_1AF4u, Q35Board.Read(m, devfn, 0x2C));         // QEMU's default subsystem
            Assert.Equal(devfn == 0 ? 0u : 0x80u, Q35Board.Read(m, devfn, 0x0E, 1));
        }

        Q35Board.Write(m, Q35Board.Smbus, 0x20, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFC1u, Q35Board.Read(m, Q35Board.Smbus, 0x20));     // 64 bytes of I/O
    }

    [Fact]
    public void SmramAndEsmramcKeepQemusWriteMasksAndDLckFreezesThem()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(0x02u, Q35Board.Read(m, 0, 0x9D, 1));
        Assert.Equal(0x38u, Q35Board.Read(m, 0, 0x9E, 1));
        Q35Board.Write(m, 0, 0x9D, 0xFF, 1);
        Q35Board.Write(m, 0, 0x9E, 0x00, 1);
        Assert.Equal(0x3Au, Q35Board.Read(m, 0, 0x9D, 1));             // D_CLS D_LCK G_SMRAME | C_BASE_SEG: D_LCK cleared D_OPEN
        Assert.Equal(0x38u, Q35Board.Read(m, 0, 0x9E, 1));             // frozen by D_LCK at its reset value

        using var l = Q35Board.Machine();
        Q35Board.Write(l, 0, 0x9E, 0xFF, 1);
        Assert.Equal(0xBFu, Q35Board.Read(l, 0, 0x9E, 1));
        Q35Board.Write(l, 0, 0x9D, 0x4A, 1);                            // D_OPEN | G_SMRAME
        Q35Board.Write(l, 0, 0x9D, 0x1A, 1);                            // D_LCK
        Assert.Equal(0x1Au, Q35Board.Read(l, 0, 0x9D, 1));
        Q35Board.Write(l, 0, 0x9D, 0x42, 1);                            // D_OPEN, G_SMRAME and D_LCK are frozen...
        Assert.Equal(0x1Au, Q35Board.Read(l, 0, 0x9D, 1));
        Q35Board.Write(l, 0, 0x9D, 0x3A, 1);                            // ...D_CLS is not
        Assert.Equal(0x3Au, Q35Board.Read(l, 0, 0x9D, 1));
        Q35Board.Write(l, 0, 0x9E, 0x38, 1);
        Assert.Equal(0xBFu, Q35Board.Read(l, 0, 0x9E, 1));
        l.Reset();
        Assert.Equal(0x02u, Q35Board.Read(l, 0, 0x9D, 1));
        Q35Board.Write(l, 0, 0x9E, 0x01, 1);
        Assert.Equal(0x39u, Q35Board.Read(l, 0, 0x9E, 1));
    }

    [Fact]
    public void ExtendedTsegReadsSixteenWhereverAQueryIsLeft()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(16u, Q35Board.Read(m, 0, 0x50, 2));               // mch_reset's query, answered by mch_update
        Q35Board.Write(m, 0, 0x50, 0x0005, 2);
        Assert.Equal(5u, Q35Board.Read(m, 0, 0x50, 2));
        Q35Board.Write(m, 0, 0x50, 0xFFFF, 2);
        Assert.Equal(16u, Q35Board.Read(m, 0, 0x50, 2));
    }

    [Fact]
    public void SmbaseControlAnswersTheQueryAndLocks()
    {
        using var m = Q35Board.Machine();
        Q35Board.Write(m, 0, 0x9C, 0xFF, 1);
        Assert.Equal(0x01u, Q35Board.Read(m, 0, 0x9C, 1));
        Q35Board.Write(m, 0, 0x9C, 0x00, 1);
        Assert.Equal(0x01u, Q35Board.Read(m, 0, 0x9C, 1));             // only bit 1 is writable now
        Q35Board.Write(m, 0, 0x9C, 0x02, 1);
        Assert.Equal(0x02u, Q35Board.Read(m, 0, 0x9C, 1));
        Q35Board.Write(m, 0, 0x9C, 0xFF, 1);
        Assert.Equal(0x02u, Q35Board.Read(m, 0, 0x9C, 1));             // locked

        using var other = Q35Board.Machine();
        Q35Board.Write(other, 0, 0x9C, 0x02, 1);                        // a first write that is not the query
        Assert.Equal(0x00u, Q35Board.Read(other, 0, 0x9C, 1));
    }

    [Fact]
    public void PciexbarPlacesTheEcamWindowOverBusZero()
    {
        using var m = Q35Board.Machine();
        Assert.Equal(0xB000_0000u, Q35Board.Read(m, 0, 0x60));
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(Ecam, 4));              // off at reset
        Q35Board.Write(m, 0, 0x60, 0);
        Q35Board.Write(m, 0, 0x64, 0);
        Q35Board.Write(m, 0, 0x60, 0xB000_0001);                       // OVMF's sequence
        Assert.Equal(0x29C0_8086UL, m.Bus.Read(Ecam, 4));
        Assert.Equal(0x2918UL, m.Bus.Read(Ecam + (0xF8UL << 12) + 2, 2));      // 00:1f.0 device ID
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(Ecam + (0x08UL << 12), 4));      // 00:01.0 absent
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(Ecam + 0x100, 4));               // beyond 256 bytes
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(Ecam + (1UL << 20), 4));         // bus 1
        m.Bus.Write(Ecam + (0xF8UL << 12) + 0x60, 1, 0x0A);                     // PIRQA through ECAM
        Assert.Equal(0x0Au, Q35Board.Read(m, Q35Board.Lpc, 0x60, 1));
        m.Bus.Write(Ecam + 0x100, 4, 0);                                        // dropped

        Q35Board.Write(m, 0, 0x60, 0xC000_0003);                       // 128 MiB at 0xC0000000
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(Ecam, 4));
        Assert.Equal(0x29C0_8086UL, m.Bus.Read(0xC000_0000, 4));
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0xC000_0000 + (128UL << 20), 4));
        Q35Board.Write(m, 0, 0x60, 0xD000_0007);                       // the reserved size: ignored
        Assert.Equal(0x29C0_8086UL, m.Bus.Read(0xC000_0000, 4));
        Q35Board.Write(m, 0, 0x60, 0xC000_0002);                       // disabled
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0xC000_0000, 4));
    }

    [Theory]
    [InlineData(PcChipset.Q35, 0x91)]
    [InlineData(PcChipset.I440fx, 0x5A)]
    public void PamShowsRamReadOnlyOrReadWrite(PcChipset chipset, int pam1)
    {
        using var m = new PcMachine(new MachineOptions { Chipset = chipset, RamSize = 16UL << 20, Flash = [new("code", new byte[0x10000], true)] });
        const ulong segment = 0xC0000;
        *(uint*)m.RamHost(segment) = 0x1234_5678;
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(segment, 4));           // attribute 0: nothing below on this board
        Q35Board.Write(m, 0, pam1, 0x01, 1);
        Assert.Equal(0x1234_5678UL, m.Bus.Read(segment, 4));
        m.Bus.Write(segment, 4, 0xAAAA_AAAA);                           // read-only RAM drops writes
        Assert.Equal(0x1234_5678UL, m.Bus.Read(segment, 4));
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(segment + 0x4000, 4));  // the high nibble's segment is untouched
        Q35Board.Write(m, 0, pam1, 0x03, 1);
        m.Bus.Write(segment, 4, 0xAAAA_AAAA);
        Assert.Equal(0xAAAA_AAAAu, *(uint*)m.RamHost(segment));
        Q35Board.Write(m, 0, pam1, 0x00, 1);
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(segment, 4));
    }

    [Fact]
    public void TsegIsBlackHoledOutsideSmmOnceClosed()
    {
        using var m = Q35Board.Machine();
        ulong tseg = m.LowRamSize - (1UL << 20);
        *(uint*)m.RamHost(tseg) = 0x5A5A_5A5A;
        Q35Board.Write(m, 0, 0x9E, 0x01, 1);                            // T_EN, 1 MiB
        Assert.Equal(0x5A5A_5A5AUL, m.Bus.Read(tseg, 4));              // not without G_SMRAME
        Q35Board.Write(m, 0, 0x9D, 0x08, 1);                            // G_SMRAME
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(tseg, 4));
        *(uint*)m.RamHost(tseg - 4) = 0x1111_1111;
        Assert.Equal(0x1111_1111UL, m.Bus.Read(tseg - 4, 4));          // RAM below TSEG stays
        m.Bus.Write(tseg, 4, 0);
        m.Bus.SmmView = true;
        Assert.Equal(0x5A5A_5A5AUL, m.Bus.Read(tseg, 4));              // SMM sees RAM; the write was dropped
        m.Bus.SmmView = false;
        Q35Board.Write(m, 0, 0x9E, 0x07, 1);                            // the extended size: 16 MiB
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(m.LowRamSize - (16UL << 20), 4));
        Q35Board.Write(m, 0, 0x9E, 0x06, 1);                            // T_EN off: open
        Assert.Equal(0x5A5A_5A5AUL, m.Bus.Read(tseg, 4));
    }

    [Fact]
    public void LegacySmramAndTheSmbaseWindowFollowTheRegisters()
    {
        using var m = Q35Board.Machine();
        *(uint*)m.RamHost(0xA0000) = 0x0BAD_F00D;
        *(uint*)m.RamHost(0x30000) = 0x3000_0000;
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0xA0000, 4));           // VGA's window, nothing there
        Q35Board.Write(m, 0, 0x9D, 0x4A, 1);                            // D_OPEN | G_SMRAME
        Assert.Equal(0x0BAD_F00DUL, m.Bus.Read(0xA0000, 4));
        Q35Board.Write(m, 0, 0x9D, 0x0A, 1);                            // closed
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0xA0000, 4));
        m.Bus.SmmView = true;
        Assert.Equal(0x0BAD_F00DUL, m.Bus.Read(0xA0000, 4));
        m.Bus.SmmView = false;
        Q35Board.Write(m, 0, 0x9E, 0xB8, 1);                            // H_SMRAME: the window moves to 0xFEDA0000
        m.Bus.SmmView = true;
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0xA0000, 4));
        Assert.Equal(0x0BAD_F00DUL, m.Bus.Read(0xFEDA_0000, 4));
        m.Bus.SmmView = false;

        Assert.Equal(0x3000_0000UL, m.Bus.Read(0x30000, 4));
        Q35Board.Write(m, 0, 0x9C, 0xFF, 1);
        Q35Board.Write(m, 0, 0x9C, 0x02, 1);
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0x30000, 4));
        Assert.Equal(0xFFFF_FFFFUL, m.Bus.Read(0x4FFFC, 4));
        m.Bus.SmmView = true;
        Assert.Equal(0x3000_0000UL, m.Bus.Read(0x30000, 4));
    }

    [Fact]
    public void LowRamEndsAtTwoGibOnceRamReachesTheEcamHole()
    {
        Assert.Equal(0xAFFF_F000UL, Low(0xAFFF_F000));
        Assert.Equal(0x8000_0000UL, Low(0xB000_0000));
        Assert.Equal(0x8000_0000UL, Low(0xC000_0000));

        static ulong Low(ulong ram)
        {
            using var m = new PcMachine(new MachineOptions { Chipset = PcChipset.Q35, RamSize = ram, Flash = [new("code", new byte[0x10000], true)] });
            return m.LowRamSize;
        }
    }
}
