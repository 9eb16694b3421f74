using Emulator.Core.Devices.Ide;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Machine;

/// <summary>
/// The PIIX3 IDE function with both channels empty, through port accesses only, against what
/// QEMU 7.2's piix3-ide answers (hw/ide/core.c, hw/ide/piix.c, hw/ide/pci.c).
/// </summary>
[Trait("Category", "Unit")]
public sealed class PcMachineIdeTests : IDisposable
{
    private const ushort BusMasterBase = 0xC000;
    private readonly PcMachine _m = new(new MachineOptions { Flash = [new("code", new byte[0x200000], true)] });

    public void Dispose() => _m.Dispose();

    [Fact]
    public void Function0011IdentifiesAsPiix3IdeInLegacyModeWithQemusResetValues()
    {
        Assert.Equal(0x7010_8086u, ReadConfig(0x00));
        Assert.Equal(0x0280_0000u, ReadConfig(0x04));
        Assert.Equal(0x0101_8000u, ReadConfig(0x08));
        Assert.Equal(0x0000_0000u, ReadConfig(0x0C));
        Assert.Equal(0x0000_0001u, ReadConfig(0x20));
        Assert.Equal(0x0000_0000u, ReadConfig(0x3C));
        WriteConfig(0x20, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFF1u, ReadConfig(0x20));
    }

    [Fact]
    public void EmptyChannelsReadZeroEverywhereAfterTaskFileWrites()
    {
        foreach (ushort command in (ushort[])[0x1F0, 0x170])
        {
            for (int r = 1; r <= 6; r++)
            {
                _m.Ports.Write((ushort)(command + r), 1, 0x5A);
            }

            for (int r = 0; r <= 7; r++)
            {
                Assert.Equal(0u, _m.Ports.Read((ushort)(command + r), 1));
            }

            Assert.Equal(0u, _m.Ports.Read(command, 2));
            Assert.Equal(0u, _m.Ports.Read(command, 4));
        }

        // The writes are kept for a drive to take its command parameters from (device/head with
        // QEMU's always-on bits 7 and 5); bit 4 of 0x5A selected device 1.
        Assert.Equal(0x5A, _m.Ide.Channels[0].Devices[0].SectorCount);
        Assert.Equal(0xFA, _m.Ide.Channels[1].Devices[1].DeviceHead);
        Assert.Equal(1, _m.Ide.Channels[1].SelectedDevice);

        Assert.Equal(0u, _m.Ports.Read(0x3F6, 1));
        Assert.Equal(0u, _m.Ports.Read(0x376, 1));
        Assert.Equal(0xFF00u, _m.Ports.Read(0x3F6, 2) & 0xFF00);
    }

    [Fact]
    public void ACommandToDevice0InterruptsOnIrq14AndTheStatusReadLowersIt()
    {
        Assert.Equal("gsi 14", _m.Ide.BusMaster[0].Irq.Target);
        EnableBusMaster();

        _m.Ports.Write(0x1F6, 1, 0xE0);
        _m.Ports.Write(0x1F7, 1, 0x90);
        Assert.True(_m.Ide.Channels[0].InterruptPending);
        Assert.True(_m.Ide.BusMaster[0].Irq.Level);
        Assert.Equal(BusMasterChannel.StatusInterrupt, _m.Ports.Read(BusMasterBase + 2, 1));
        Assert.Equal(0u, _m.Ports.Read(0x3F6, 1));
        Assert.True(_m.Ide.Channels[0].InterruptPending);
        Assert.Equal(0u, _m.Ports.Read(0x1F7, 1));
        Assert.False(_m.Ide.Channels[0].InterruptPending);
        Assert.False(_m.Ide.BusMaster[0].Irq.Level);

        // Writing 1 clears the latched interrupt bit.
        _m.Ports.Write(BusMasterBase + 2, 1, BusMasterChannel.StatusInterrupt);
        Assert.Equal(0u, _m.Ports.Read(BusMasterBase + 2, 1));
    }

    [Fact]
    public void Device1OfAnEmptyChannelIgnoresCommandsAndNienSuppressesTheInterrupt()
    {
        _m.Ports.Write(0x1F6, 1, 0xF0);
        _m.Ports.Write(0x1F7, 1, 0xEC);
        Assert.False(_m.Ide.Channels[0].InterruptPending);

        _m.Ports.Write(0x3F6, 1, IdeChannel.ControlInterruptDisable);
        _m.Ports.Write(0x1F6, 1, 0xE0);
        _m.Ports.Write(0x1F7, 1, 0xEC);
        Assert.False(_m.Ide.Channels[0].InterruptPending);

        _m.Ports.Write(0x3F6, 1, 0);
        _m.Ports.Write(0x177, 1, 0xEC);
        Assert.True(_m.Ide.Channels[1].InterruptPending);
        Assert.False(_m.Ide.Channels[0].InterruptPending);
    }

    [Fact]
    public void BusMasterRegistersFollowBar4AndTheIoEnable()
    {
        WriteConfig(0x20, BusMasterBase);
        Assert.Equal(0xFFu, _m.Ports.Read(BusMasterBase, 1));
        EnableBusMaster();

        _m.Ports.Write(BusMasterBase + 8 + 4, 4, 0x0012_3457);
        Assert.Equal(0x0012_3454u, _m.Ports.Read(BusMasterBase + 8 + 4, 4));
        Assert.Equal(0x12u, _m.Ports.Read(BusMasterBase + 8 + 6, 1));
        Assert.Equal(0u, _m.Ports.Read(BusMasterBase + 4, 4));

        _m.Ports.Write(BusMasterBase, 1, 0xFF);
        Assert.Equal(0x09u, _m.Ports.Read(BusMasterBase, 1));
        Assert.Equal(BusMasterChannel.StatusActive, _m.Ports.Read(BusMasterBase + 2, 1));
        _m.Ports.Write(BusMasterBase + 2, 1, 0x60);
        Assert.Equal(0x61u, _m.Ports.Read(BusMasterBase + 2, 1));
        _m.Ports.Write(BusMasterBase, 1, 0x00);
        Assert.Equal(0x60u, _m.Ports.Read(BusMasterBase + 2, 1));
        Assert.Equal(0xFFu, _m.Ports.Read(BusMasterBase + 1, 1));
        Assert.Equal(0xFFFFu, _m.Ports.Read(BusMasterBase, 2));

        WriteConfig(0x20, 0xD000);
        Assert.Equal(0xFFu, _m.Ports.Read(BusMasterBase + 2, 1));
        Assert.Equal(0x60u, _m.Ports.Read(0xD002, 1));

        _m.Reset();
        Assert.Equal(0xFFu, _m.Ports.Read(0xD002, 1));
        Assert.Equal(0x0000_0001u, ReadConfig(0x20));
    }

    private void EnableBusMaster()
    {
        WriteConfig(0x20, BusMasterBase);
        WriteConfig(0x04, 0x0280_0005);
    }

    private uint ReadConfig(int register)
    {
        _m.Ports.Write(0xCF8, 4, Address(register));
        return _m.Ports.Read(0xCFC, 4);
    }

    private void WriteConfig(int register, uint value)
    {
        _m.Ports.Write(0xCF8, 4, Address(register));
        _m.Ports.Write(0xCFC, 4, value);
    }

    private static uint Address(int register) => 0x8000_0000u | (1u << 11) | (1u << 8) | (uint)register;
}
