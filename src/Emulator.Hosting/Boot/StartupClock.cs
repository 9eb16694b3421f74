using System.Diagnostics;
using System.Globalization;

namespace Emulator.Hosting.Boot;

/// <summary>
/// Where a boot's start-up goes, for <c>emu boot --verbose</c>: the milestones' wall figures count
/// from the machine's start, so they leave out the .NET runtime, the command line, the firmware
/// parse and the machine's construction, which issue 20 bounds (process start to the reset vector
/// under 150 ms). On Linux the process's age is the kernel's uptime less the process's start, both
/// counted from boot in 10 ms clock ticks (not <c>Process.StartTime</c>: that adds the boot time,
/// which the kernel gives in whole seconds, and was off by up to a second); the part after
/// <c>Main</c> is a Stopwatch reading.
/// </summary>
public static class StartupClock
{
    /// <summary>USER_HZ, the unit of /proc/self/stat's start time: 100 on every Linux architecture .NET runs on.</summary>
    private const double ClockTicksPerSecond = 100;

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
        return ProcessAgeMs() is { } sinceStart
            ? $"{sinceStart:F0} ms from process start ({Math.Max(0, sinceStart - sinceMain):F0} ms of them before Main; ±10 ms)"
            : $"{sinceMain:F0} ms from Main (process start unknown)";
    }

    private static double? ProcessAgeMs()
    {
        try
        {
            // /proc/self/stat: "pid (comm) state ppid ...", starttime is field 22; comm may hold spaces and parentheses.
            string stat = File.ReadAllText("/proc/self/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long startTicks = long.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
            double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
            return (uptime - startTicks / ClockTicksPerSecond) * 1000;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
