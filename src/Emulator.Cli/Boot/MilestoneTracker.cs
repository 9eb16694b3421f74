using System.Diagnostics;
using Emulator.Core.Cpu;

namespace Emulator.Cli.Boot;

/// <summary>
/// Records the boot milestones as the CPU reaches them: <c>reset</c> (the first instruction),
/// <c>protected</c> and <c>long</c> (the first instruction executed in 32-bit protected mode and
/// in 64-bit mode), and address milestones (<c>sec</c>, <c>pei</c>) found in the firmware image
/// itself and watched with breakpoints. Stops the run at the <c>--until</c> milestone.
/// </summary>
public sealed class MilestoneTracker
{
    public const string Reset = "reset";
    public const string Protected = "protected";
    public const string Long = "long";
    public const string Sec = "sec";
    public const string Pei = "pei";

    public static readonly IReadOnlyList<string> KnownNames = [Reset, Protected, Long, Sec, Pei];

    private readonly Cpu _cpu;
    private readonly Stopwatch _wall;
    private readonly Dictionary<ulong, string> _addressMilestones;
    private readonly List<Milestone> _reached = [];

    public MilestoneTracker(Cpu cpu, Stopwatch wall, IReadOnlyDictionary<string, ulong> addressMilestones, string? until)
    {
        _cpu = cpu;
        _wall = wall;
        Until = until;
        _addressMilestones = addressMilestones.ToDictionary(kv => kv.Value, kv => kv.Key);
        foreach (var address in _addressMilestones.Keys)
        {
            cpu.AddBreakpoint(address);
        }

        cpu.ModeEntered = OnModeEntered;
        cpu.BreakpointHit = OnBreakpoint;
    }

    public string? Until { get; }

    public IReadOnlyList<Milestone> Reached => _reached;

    public bool UntilReached => Until != null && _reached.Any(m => m.Name == Until);

    /// <summary>Raised as each milestone is reached (for progress output).</summary>
    public event Action<Milestone>? MilestoneReached;

    private bool IsReached(string name) => _reached.Any(m => m.Name == name);

    private void OnModeEntered(Cpu cpu, int bitness)
    {
        if (!IsReached(Reset))
        {
            Record(Reset, bitness);
        }

        bool protectedMode = (cpu.Cr0 & CrBits.PE) != 0;
        if (bitness == 32 && protectedMode && !IsReached(Protected))
        {
            Record(Protected, bitness);
        }
        else if (bitness == 64 && !IsReached(Long))
        {
            Record(Long, bitness);
        }
    }

    private bool OnBreakpoint(Cpu cpu, ulong linear)
    {
        if (_addressMilestones.TryGetValue(linear, out var name) && !IsReached(name))
        {
            Record(name, cpu.Bitness);
        }

        return Until != null && name == Until && IsReached(Until);
    }

    private void Record(string name, int bitness)
    {
        var m = new Milestone(name, _cpu.InstructionCount, _cpu.LinearRip, bitness, _wall.Elapsed.TotalMilliseconds);
        _reached.Add(m);
        MilestoneReached?.Invoke(m);
        if (name == Until)
        {
            _cpu.RequestStop(StopReason.Breakpoint, $"reached milestone {name}");
        }
    }
}
