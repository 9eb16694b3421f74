using Emulator.Hosting.Bench;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Boot.Tests;

/// <summary>
/// The flash write workload (bench flash, persistence tests) is a real guest program: run it
/// and check that the chip ends exactly as its own operation list says, and that it powers off.
/// </summary>
[Trait("Category", "Unit")]
public class FlashWorkloadTests
{
    [Fact]
    public void GuestProgramPerformsExactlyTheListedOperationsThenPowersOff()
    {
        var workload = new FlashWorkload(3 * FlashWorkload.BlockSize, 2);
        var serial = new List<byte>();
        using var machine = new PcMachine(new MachineOptions
        {
            Flash = [new FlashImage("code", workload.BuildCodeImage(), true), new FlashImage("vars", workload.BuildVarsImage(), false)],
            SerialPorts = [new IsaSerialPort(0, serial.Add)],
        });
        Assert.Equal(workload.VarsBase, machine.FlashPlacements.Single(p => p.Unit == 1).Base);

        var reason = machine.Cpu.Run(10_000_000);

        Assert.Equal(StopReason.PowerOff, reason);
        var expected = workload.BuildVarsImage();
        foreach (var op in workload.Operations())
        {
            FlashWorkload.Apply(expected, op);
        }

        var vars = machine.FlashChips[1];
        Assert.Equal(expected, vars.Contents.ToArray());
        Assert.Equal(workload.BytesProgrammed, vars.BytesProgrammed);
        Assert.Equal(workload.BlocksErased, vars.BlocksErased);
        Assert.Equal(0, machine.FlashChips[0].BytesProgrammed);
        Assert.Equal($"{FlashWorkload.StartMarker}\r\n{FlashWorkload.DoneMarker}\r\n", System.Text.Encoding.ASCII.GetString(serial.ToArray()));
    }

    [Fact]
    public void OperationsEraseThenProgramEachPass()
    {
        var ops = new FlashWorkload(2 * FlashWorkload.BlockSize, 2).Operations().ToList();
        Assert.Equal(2 * (2 + (2 * FlashWorkload.BlockSize)), ops.Count);
        Assert.Equal(Core.Devices.CfiFlash.FlashWriteKind.Erase, ops[1].Kind);
        Assert.Equal(FlashWorkload.BlockSize, ops[1].Offset);
        Assert.Equal(FlashWorkload.DataByte(0, 5), ops[2 + 5].Value);
        Assert.NotEqual(FlashWorkload.DataByte(0, 5), FlashWorkload.DataByte(1, 5));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(4095, 1)]
    [InlineData(4096, 0)]
    [InlineData(FlashWorkload.MaxRegionBytes + 4096, 1)]
    public void RejectsRegionsThatAreNotWholeBlocks(int region, int passes) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlashWorkload(region, passes));
}
