using System.Diagnostics;
using System.Globalization;

namespace Emulator.CpuFuzz.Tests.Fuzzer;

/// <summary>
/// A long campaign's progress, shared by its workers: with a file named (EMU_CPU_FUZZ_PROGRESS),
/// a line every 100,000 instructions compared — instructions, cases, divergences, the rate and
/// the time left at that rate — so an hour-long run can be watched (xunit prints a test's output
/// only when it ends).
/// </summary>
internal sealed class CampaignProgress(FuzzMode mode, long target, string? file)
{
    private const long Every = 100_000;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private long _instructions;
    private long _cases;
    private long _divergences;
    private long _nextLine = Every;

    public void Add(long instructions, bool diverged)
    {
        if (file is null)
        {
            return;
        }

        lock (_gate)
        {
            _instructions += instructions;
            _cases++;
            _divergences += diverged ? 1 : 0;
            if (_instructions < _nextLine)
            {
                return;
            }

            _nextLine = (_instructions / Every + 1) * Every;
            double rate = _instructions / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            var left = TimeSpan.FromSeconds(Math.Max(0, target - _instructions) / Math.Max(rate, 1));
            File.AppendAllText(file, string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:HH:mm:ss} {mode}: {_instructions:N0} of {target:N0} instructions, {_cases:N0} cases, {_divergences} divergences, {rate:N0}/s, {left:hh\\:mm\\:ss} left{Environment.NewLine}"));
        }
    }
}
