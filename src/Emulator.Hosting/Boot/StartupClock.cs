using System.Diagnostics;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Where a boot's start-up goes, for <c>emu boot --verbose</c>: the milestones' wall figures count
/// from the machine's start, so they leave out the .NET runtime, the command line, the firmware
/// parse and the machine's construction, which issue 20 bounds (process start to the reset vector
/// under 150 ms). The process's start comes from the kernel in clock ticks (10 ms on Linux), so the
/// first figure is good to about that; the rest are Stopwatch readings from <c>Main</c>.
/// </summary>
public static class StartupClock
{
    private static long _mainEntered;

    /// <summary>Called first thing in <c>Main</c>.</summary>
    public static void MarkMain() => _mainEntered = Stopwatch.GetTimestamp();

    /// <summary>"N ms from process start (M ms of them before Main)", or null when Main was not marked (a test's process).</summary>
    public static string? SinceProcessStart()
    {
        if (_mainEntered == 0)
        {
            return null;
        }

        double sinceMain = Stopwatch.GetElapsedTime(_mainEntered).TotalMilliseconds;
        double sinceStart;
        try
        {
            sinceStart = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            return $"{sinceMain:F0} ms from Main (process start unknown)";
        }

        return $"{sinceStart:F0} ms from process start ({Math.Max(0, sinceStart - sinceMain):F0} ms of them before Main)";
    }
}
