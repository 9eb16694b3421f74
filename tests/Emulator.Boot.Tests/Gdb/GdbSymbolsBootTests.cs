using System.Text.RegularExpressions;

namespace Emulator.Boot.Tests.Gdb;

/// <summary>
/// <c>--symbols</c> with a real gdb on the DEBUG 2 MB OVMF that firmware-fixtures/build-debug.sh
/// builds, whose .debug files it keeps: breakpoints set by function name before their modules
/// exist (PeiCore, DxeMain) are pending, resolve when the module starts — gdb loads its .debug,
/// placed where the image runs — and stop there with the function's arguments read through
/// DWARF; gdb lists the modules with their symbols read.
/// </summary>
[Trait("Category", "Boot")]
public sealed class GdbSymbolsBootTests
{
    [Fact]
    public void PendingBreakpointsOnFunctions_ResolveWhenTheirModulesStart_WithSymbols()
    {
        string symbols = DebugFixtures.Path(DebugFixtures.Symbols2M);
        using var h = GdbHarness.WithFirmware(DebugFixtures.Path(DebugFixtures.Code2M), DebugFixtures.Path(DebugFixtures.Vars2M),
            "--gdb-wait", "--symbols", symbols, "--max-instructions", "2000000000");
        string output = h.RunGdb(
            "set breakpoint pending on", "break PeiCore", "break DxeMain", "continue", "info symbol $pc",
            "delete 1", "continue", "info symbol $pc", "p/x HobStart", "info sharedlibrary", "monitor modules", "kill");

        // Neither module exists at the reset vector: both breakpoints wait for their libraries.
        Assert.Contains("Breakpoint 1 (PeiCore) pending.", output);
        Assert.Contains("Breakpoint 2 (DxeMain) pending.", output);
        // Each stops in its function, in the C source's line table, with its symbol file's name.
        Assert.Matches(@"Breakpoint 1, PeiCore \(SecCoreDataPtr=0x[0-9a-f]+, PpiList=0x[0-9a-f]+, Data=0x[0-9a-f]+\) at \S+PeiMain\.c:\d+", output);
        Assert.Matches(@"PeiCore(\s\+\s\d+)? in section \.text of \S+PeiCore\.debug", output);
        Assert.Matches(@"Breakpoint 2, DxeMain \(HobStart=0x[0-9a-f]+\) at \S+DxeMain\.c:\d+", output);
        Assert.Matches(@"DxeMain(\s\+\s\d+)? in section \.text of \S+DxeCore\.debug", output);

        // DxeMain's argument is the HOB list DxeIpl handed over: in RAM, below 4 GiB.
        var hob = Regex.Match(output, @"\$1 = 0x([0-9a-f]+)");
        Assert.True(hob.Success, output);
        Assert.InRange(Convert.ToUInt64(hob.Groups[1].Value, 16), 0x10_0000UL, 0xFFFF_FFFFUL);

        // gdb read the symbols of every module that started, from the build folder.
        foreach (string module in (string[])["PeiCore", "PlatformPei", "DxeIpl", "DxeCore"])
        {
            Assert.Matches(@"0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes\s+" + Regex.Escape(Path.Combine(symbols, module + ".debug")), output);
        }
    }
}
