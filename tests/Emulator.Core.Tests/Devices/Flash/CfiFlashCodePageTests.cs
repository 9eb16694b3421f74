using Emulator.Core.Machine;
using Emulator.Core.Memory;

namespace Emulator.Core.Tests.Devices.Flash;

/// <summary>
/// Flash that holds decoded code (firmware executing in place from a writable chip) must tell the
/// bus when a program or erase changes it, so stale decoded blocks are dropped. The byte-program
/// fast path only asks the bus when the chip's region holds code pages: check both sides. (The
/// machine's CPU listens too: it drops the page's blocks and unmarks it on the first report.)
/// </summary>
[Trait("Category", "Unit")]
public sealed class CfiFlashCodePageTests : IDisposable
{
    private readonly PcMachine _machine;
    private readonly FlashDriver _vars;
    private readonly List<ulong> _written = [];

    public CfiFlashCodePageTests()
    {
        var vars = new byte[0x8000];
        vars.AsSpan().Fill(0xFF);
        _machine = new PcMachine(new MachineOptions
        {
            RamSize = 16UL << 20,
            Flash = [new("code", new byte[0x10000], true), new("vars", vars, false)],
        });
        _vars = new FlashDriver(_machine, 1);
        _machine.Bus.CodePageWritten += _written.Add;
    }

    public void Dispose() => _machine.Dispose();

    private ulong Page(ulong offset) => (_vars.Base + offset) >> PhysicalBus.PageShift;

    [Fact]
    public void ProgrammingAByteInACodePageReportsThatPageOnly()
    {
        _machine.Bus.MarkCodePage(Page(0x3000));
        Assert.Equal(1, _machine.Bus.Find(_vars.Base).CodePages);

        _vars.ProgramAsOvmf(0x2FFF, [0x11]);
        Assert.Empty(_written);

        // The CPU drops the page's decoded blocks and stops watching it: one report, count back to 0.
        _vars.ProgramAsOvmf(0x3004, [0x90, 0xC3]);
        Assert.Equal([Page(0x3000)], _written);
        Assert.Equal(0, _machine.Bus.Find(_vars.Base).CodePages);
        Assert.Equal(0x90, _vars.ReadByte(0x3004));
    }

    [Fact]
    public void ProgrammingAfterThePageIsNoLongerCodeReportsNothing()
    {
        _machine.Bus.MarkCodePage(Page(0x1000));
        _machine.Bus.MarkCodePage(Page(0x1000));
        _machine.Bus.ClearCodePage(Page(0x1000));
        Assert.Equal(0, _machine.Bus.Find(_vars.Base).CodePages);

        _vars.ProgramAsOvmf(0x1000, [0x11, 0x22]);
        Assert.Empty(_written);
        Assert.Equal(0x22, _vars.ReadByte(0x1001));
    }

    [Fact]
    public void EraseAndBufferedWriteReportCodePagesToo()
    {
        _machine.Bus.MarkCodePage(Page(0x4000));
        _vars.EraseAsOvmf(0x4000);
        _machine.Bus.MarkCodePage(Page(0x4000));
        _vars.BufferedWrite(0x4100, 1, [(0x4100, 1, 0xAA), (0x4101, 1, 0xBB)]);
        Assert.Equal([Page(0x4000), Page(0x4000)], _written);
    }
}
