using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Core.Tests.Cpu;

/// <summary>
/// The CPUID tables against what CPUID returned in a guest on QEMU 7.2 (a boot sector printing
/// each leaf on COM1 under qemu-system-i386 / qemu-system-x86_64 -machine pc; docs/qemu64-cpuid.md),
/// including QEMU's answer past a range's top (cpu_x86_cpuid: the highest basic leaf, ECX kept).
/// </summary>
[Trait("Category", "Unit")]
public sealed class CpuModelTests
{
    [Theory]
    [InlineData(0x0u, 0u, 0x00000004u, 0x756E6547u, 0x6C65746Eu, 0x49656E69u)]
    [InlineData(0x1u, 0u, 0x00000663u, 0x00000800u, 0x80000001u, 0x0781ABFDu)]
    [InlineData(0x2u, 0u, 0x00000001u, 0u, 0x0000004Du, 0x002C307Du)]
    [InlineData(0x3u, 0u, 0u, 0u, 0u, 0u)]
    [InlineData(0x4u, 2u, 0x00000143u, 0x03C0003Fu, 0x00000FFFu, 0x00000001u)]
    [InlineData(0x4u, 3u, 0x00000163u, 0x03C0003Fu, 0x00003FFFu, 0x00000006u)]
    [InlineData(0x4u, 4u, 0u, 0u, 0u, 0u)]
    [InlineData(0x5u, 0u, 0x00000121u, 0x01C0003Fu, 0x0000003Fu, 0x00000001u)]
    [InlineData(0xBu, 1u, 0x00000122u, 0x01C0003Fu, 0x0000003Fu, 0x00000001u)]
    [InlineData(0xBu, 3u, 0x00000163u, 0x03C0003Fu, 0x00003FFFu, 0x00000006u)]
    [InlineData(0x40000000u, 0u, 0x40000001u, 0x54474354u, 0x43544743u, 0x47435447u)]
    [InlineData(0x40000001u, 0u, 0u, 0u, 0u, 0u)]
    [InlineData(0x40000002u, 0u, 0x00000121u, 0x01C0003Fu, 0x0000003Fu, 0x00000001u)]
    [InlineData(0x50000000u, 0u, 0x00000121u, 0x01C0003Fu, 0x0000003Fu, 0x00000001u)]
    [InlineData(0x80000000u, 0u, 0x80000004u, 0x756E6547u, 0x6C65746Eu, 0x49656E69u)]
    [InlineData(0x80000001u, 0u, 0x00000663u, 0u, 0u, 0u)]
    [InlineData(0x80000003u, 0u, 0x72657620u, 0x6E6F6973u, 0x352E3220u, 0x0000002Bu)]
    [InlineData(0x80000004u, 0u, 0u, 0u, 0u, 0u)]
    [InlineData(0x80000005u, 2u, 0x00000143u, 0x03C0003Fu, 0x00000FFFu, 0x00000001u)]
    [InlineData(0x80000008u, 3u, 0x00000163u, 0x03C0003Fu, 0x00003FFFu, 0x00000006u)]
    [InlineData(0xC0000001u, 1u, 0x00000122u, 0x01C0003Fu, 0x0000003Fu, 0x00000001u)]
    public void Qemu32AnswersAsQemuSystemI386(uint leaf, uint sub, uint eax, uint ebx, uint ecx, uint edx) =>
        Assert.Equal((eax, ebx, ecx, edx), CpuModel.Qemu32.Query(leaf, sub));

    [Theory]
    [InlineData(0x0Du, 1u)]
    [InlineData(0x14u, 0u)]
    [InlineData(0x40000010u, 0u)]
    [InlineData(0x80000009u, 0u)]
    [InlineData(0xC0000000u, 0u)]
    public void Qemu64AnswersZerosPastARangeTopAsMeasured(uint leaf, uint sub) =>
        Assert.Equal((0u, 0u, 0u, 0u), CpuModel.Qemu64.Query(leaf, sub));

    [Fact]
    public void Qemu32HasNoLongModeNoNxAnd32PhysicalAddressBits()
    {
        Assert.False(CpuModel.Qemu32.LongMode);
        Assert.Equal(0UL, CpuModel.Qemu32.EferWritable);
        Assert.Equal(32, CpuModel.Qemu32.PhysicalAddressBits);
        Assert.False(CpuModel.Qemu32.IsAmd);
        Assert.True(CpuModel.Qemu64.LongMode);
        Assert.Equal(CrBits.EferSce | CrBits.EferLme | CrBits.EferNxe | CrBits.EferSvme, CpuModel.Qemu64.EferWritable);
        Assert.Equal(40, CpuModel.Qemu64.PhysicalAddressBits);
        Assert.Same(CpuModel.Qemu32, CpuModel.ByName("qemu32"));
        Assert.Null(CpuModel.ByName("host"));
    }

    [Fact]
    public void AnI386MachineHasQemu32AndThe32BitSmmMap_AndIgnoresAnLmeWrite()
    {
        using var machine = new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            CpuModel = CpuModel.Qemu32,
            SmmSaveMap32 = true,
            Flash = [new("code", new byte[0x10000], true)],
        });
        Assert.Same(CpuModel.Qemu32, machine.Cpu.Model);
        Assert.True(machine.Cpu.SmmSaveMap32);
        Assert.Equal(0x663UL, machine.Cpu.GetGpr(Gpr.Rdx)); // the reset signature

        // QEMU helper_wrmsr: bits the CPUID does not offer are left alone, without a #GP.
        Assert.True(machine.Cpu.WriteEfer(CrBits.EferLme | CrBits.EferNxe));
        Assert.Equal(0UL, machine.Cpu._efer);
    }
}
