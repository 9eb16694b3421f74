using System.Text.RegularExpressions;

namespace Emulator.Boot.Tests.Gdb;

/// <summary>
/// <c>--symbols</c> with a real gdb on the DEBUG 2 MB OVMF that firmware-fixtures/build-debug.sh
/// builds, whose .debug files it keeps: breakpoints set by function name before their modules
/// exist (PeiCore, DxeMain) are pending, resolve when the module starts — gdb loads its .debug,
/// placed where the image runs — and stop there with the function's arguments read through
/// DWARF; source-level steps go back with reverse-next; gdb lists the modules with their symbols read.
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
            "next", "next", "next", "info line *$pc", "reverse-next", "reverse-next", "reverse-next", "info line *$pc",
            "delete 1", "continue", "info symbol $pc", "bt 3", "info sharedlibrary", "kill");

        // Neither module exists at the reset vector: both breakpoints wait for their libraries.
        Assert.Contains("Breakpoint 1 (PeiCore) pending.", output);
        Assert.Contains("Breakpoint 2 (DxeMain) pending.", output);
        // Each stops in its function, in the C source's line table, with its symbol file's name
        // (DxeMain is inlined into the entry point by the build's link-time optimisation).
        Assert.Matches(@"Breakpoint 1, PeiCore \(SecCoreDataPtr=0x[0-9a-f]+, PpiList=0x[0-9a-f]+[^)]*\) at \S+PeiMain\.c:\d+", output);
        Assert.Matches(@"PeiCore(\s\+\s\d+)? in section \.text of \S+PeiCore\.debug", output);
        Assert.Matches(@"Breakpoint 2, (0x[0-9a-f]+ in )?DxeMain \(HobStart=[^)]*\) at \S+DxeMain\.c:\d+", output);
        Assert.Matches(@"in section \.text of \S+DxeCore\.debug", output);

        // Source-level steps back (gdb's reverse-next on emu's reverse execution): three lines on,
        // three lines back is the breakpoint's line again.
        int line = int.Parse(Regex.Match(output, @"PeiMain\.c:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var lines = Regex.Matches(output, @"Line (\d+) of ""\S+PeiMain\.c"" starts at address 0x[0-9a-f]+ <PeiCore(\+\d+)?>");
        Assert.True(lines.Count == 2, output);
        Assert.NotEqual(line.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[0].Groups[1].Value);
        Assert.Equal(line.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[1].Groups[1].Value);

        // The HOB list DxeIpl handed over, read through DWARF from the entry point's frame: in RAM, below 4 GiB.
        var hob = Regex.Match(output, @"_ModuleEntryPoint \(HobStart=0x([0-9a-f]+)\)");
        Assert.True(hob.Success, output);
        Assert.InRange(Convert.ToUInt64(hob.Groups[1].Value, 16), 0x10_0000UL, 0xFFFF_FFFFUL);

        // gdb read the symbols of every module that started, from the build folder, a module built
        // twice under one name (CpuMpPei, NAME_FILEGUID.debug) too.
        foreach (string module in (string[])["PeiCore", "PlatformPei", "DxeIpl", "CpuMpPei_*", "DxeCore"])
        {
            Assert.Matches(@"0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes\s+" + Regex.Escape(Path.Combine(symbols, module + ".debug")).Replace(@"\*", "[0-9a-fA-F-]{36}"), output);
        }
    }
}
