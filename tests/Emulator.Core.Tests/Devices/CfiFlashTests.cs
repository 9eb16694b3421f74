using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Devices;

/// <summary>The CFI flash as OVMF's QemuFlashFvbServicesRuntimeDxe drives it, through bus accesses.</summary>
public class CfiFlashTests
{
    private const ulong VarsBase = 0xFFE00000;

    private static PcMachine Machine(bool codeReadOnly = true)
    {
        var code = new byte[0x1E0000];
        var vars = new byte[0x20000];
        vars.AsSpan().Fill(0xFF);
        vars[0x10] = 0x8D;
        return new PcMachine(new MachineOptions { Flash = [new("code", code, codeReadOnly), new("vars", vars, false)] });
    }

    [Fact]
    public void OvmfDetectionProbeFindsFlash()
    {
        using var m = Machine();
        ulong probe = VarsBase + 0x10;
        byte original = (byte)m.Bus.Read(probe, 1);
        m.Bus.Write(probe, 1, 0x50);                         // clear status
        Assert.Equal(original, (byte)m.Bus.Read(probe, 1)); // unchanged: not RAM
        m.Bus.Write(probe, 1, 0x70);                         // read status
        Assert.Equal(0x00, (byte)m.Bus.Read(probe, 1));     // QEMU quirk: status 0 after clear
        m.Bus.Write(probe, 1, 0xFF);
        Assert.Equal(original, (byte)m.Bus.Read(probe, 1));
    }

    [Fact]
    public void ProgramAndEraseAsOvmfDoes()
    {
        using var m = Machine();
        ulong at = VarsBase + 0x2000;
        m.Bus.Write(at, 1, 0x10);
        m.Bus.Write(at, 1, 0x5A);
        Assert.Equal(0x80, (byte)m.Bus.Read(at, 1));         // status until read array
        m.Bus.Write(at, 1, 0xFF);
        Assert.Equal(0x5A, (byte)m.Bus.Read(at, 1));
        m.Bus.Write(at, 1, 0x20);
        m.Bus.Write(at, 1, 0xD0);
        m.Bus.Write(at, 1, 0xFF);
        Assert.Equal(0xFF, (byte)m.Bus.Read(at, 1));
        Assert.Equal(1, m.FlashChips[1].BlocksErased);
    }

    [Fact]
    public void ReadOnlyCodeChipReportsErrorsAndKeepsData()
    {
        using var m = Machine();
        ulong at = 0xFFE20000;
        m.Bus.Write(at, 1, 0x10);
        m.Bus.Write(at, 1, 0x5A);
        Assert.Equal(0x90, (byte)m.Bus.Read(at, 1));
        m.Bus.Write(at, 1, 0x50);
        m.Bus.Write(at, 1, 0x20);
        Assert.Equal(0xA0, (byte)m.Bus.Read(at, 1));
        m.Bus.Write(at, 1, 0xFF);
        Assert.Equal(0x00, (byte)m.Bus.Read(at, 1));
    }

    [Fact]
    public void CfiQueryTable()
    {
        using var m = Machine();
        m.Bus.Write(VarsBase, 1, 0x98);
        Assert.Equal((byte)'Q', (byte)m.Bus.Read(VarsBase + 0x10, 1));
        Assert.Equal((byte)'R', (byte)m.Bus.Read(VarsBase + 0x11, 1));
        Assert.Equal((byte)'Y', (byte)m.Bus.Read(VarsBase + 0x12, 1));
        Assert.Equal(17, (byte)m.Bus.Read(VarsBase + 0x27, 1));   // 128 KiB = 2^17
        Assert.Equal(0x1F, (byte)m.Bus.Read(VarsBase + 0x2D, 1)); // 32 blocks - 1
        m.Bus.Write(VarsBase, 1, 0xFF);
        Assert.Equal(0xFF, (byte)m.Bus.Read(VarsBase, 1));
    }
}
