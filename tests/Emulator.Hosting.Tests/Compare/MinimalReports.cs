using Emulator.Hosting.Reporting;

namespace Emulator.Hosting.Tests.Compare;

/// <summary>The smallest run report of a q35 run with SMM, for tests of single report fields.</summary>
internal static class MinimalReports
{
    public static RunReport Q35(IReadOnlyList<FlashInfo>? flash = null, string type = "pc-q35", string cpu = "qemu64") => new()
    {
        Tool = new ToolInfo("emu", "1"),
        Firmware = [],
        Machine = new MachineInfo(type, 256UL << 20, "zero", flash ?? [], cpu, Smm: true),
        Milestones = [],
        Instructions = 1000,
        Stop = new StopInfo("until", "0xFFFFFFF0", 64, null),
        Unassigned = [],
        Unimplemented = [],
    };
}
