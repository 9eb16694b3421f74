using Emulator.Core.Cpu;
using Emulator.Core.Cpu.Float;

namespace Emulator.Core.Tests.Cpu;

[Trait("Category", "Unit")]
public class FpuMmxTests
{
    [Fact]
    public void WriteMmx_ChangesOnlyTheSignificand_AsQemusFPRegUnion()
    {
        var fpu = new FpuState();
        fpu.Reset();
        fpu.St[3] = new Float80(0x8000000000000000UL, 0x3FFF);
        fpu.WriteMmx(3, 0x0123456789ABCDEFUL);
        Assert.Equal(new Float80(0x0123456789ABCDEFUL, 0x3FFF), fpu.St[3]);
        Assert.Equal(0x0123456789ABCDEFUL, fpu.ReadMmx(3));
    }

    [Fact]
    public void EnterMmx_ZeroesTopAndValidatesAllTags_EmmsEmptiesThemKeepingTop()
    {
        var fpu = new FpuState();
        fpu.Reset();
        fpu.Top = 5;
        fpu.TagValid = 0x21;
        fpu.EnterMmx();
        Assert.Equal(0, fpu.Top);
        Assert.Equal(0xFF, fpu.TagValid);
        fpu.Top = 2;
        fpu.Emms();
        Assert.Equal(0, fpu.TagValid);
        Assert.Equal(2, fpu.Top);
    }
}
