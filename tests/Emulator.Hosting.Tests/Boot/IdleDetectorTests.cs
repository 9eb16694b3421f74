using Emulator.Hosting.Boot;

namespace Emulator.Hosting.Tests.Boot;

/// <summary>
/// The <c>idle</c> rule on synthetic input waits: a guest halted between 10 ms timer ticks and
/// polling its devices is waiting; one that computes (or Stalls) while the drivers' 20 ms timers
/// poll in the background is not; console output starts the 3 seconds again.
/// </summary>
[Trait("Category", "Unit")]
public class IdleDetectorTests
{
    private const long Ms = 1_000_000;
    private const long Second = 1000 * Ms;

    private long _printed;
    private long _busy;
    private long _now;
    private readonly List<long> _fired = [];
    private readonly IdleDetector _idle;

    public IdleDetectorTests()
    {
        _idle = new IdleDetector(() => _printed);
        _idle.Detected += () => _fired.Add(_now);
    }

    [Fact]
    public void WaitingForThreeSecondsAfterOutputIsIdle()
    {
        _printed = 7;
        Wait(busy: 5_000, every: 10 * Ms, until: 10 * Second);

        // The window opened at the first wait (10 ms); the first wait 3 s later fires, once.
        Assert.Equal([(10 * Ms) + (3 * Second)], _fired);
    }

    [Fact]
    public void WaitingBeforeTheConsoleHasShownAnythingIsNotIdle()
    {
        Wait(busy: 5_000, every: 10 * Ms, until: 10 * Second);

        Assert.Empty(_fired);
    }

    [Fact]
    public void AQuietComputationWithBackgroundPollingIsNotIdle()
    {
        _printed = 7;

        // The terminal and keyboard drivers poll from their 20 ms timer while the guest computes.
        Wait(busy: 20 * Ms, every: 20 * Ms, until: 10 * Second);

        Assert.Empty(_fired);
    }

    [Fact]
    public void BusyTimeUpToTheBoundStillCountsAsWaiting()
    {
        _printed = 7;
        Wait(busy: IdleDetector.MaxBusyBetweenWaitsNs, every: 10 * Ms, until: 4 * Second);
        Assert.Single(_fired);
    }

    [Fact]
    public void OutputStartsTheThreeSecondsAgain()
    {
        // A countdown printing at 0, 1, 2, 3 and 4 s while it polls.
        for (int s = 0; s < 5; s++)
        {
            _printed++;
            Wait(busy: 5_000, every: 10 * Ms, until: _now + Second);
        }

        Assert.Empty(_fired);

        // The last output was at 4 s; the next wait (4.01 s) opened the window.
        Wait(busy: 5_000, every: 10 * Ms, until: 9 * Second);
        Assert.Equal([(4 * Second) + (10 * Ms) + (3 * Second)], _fired);
    }

    [Fact]
    public void ABusyStretchInTheMiddleStartsTheThreeSecondsAgain()
    {
        _printed = 7;
        Wait(busy: 5_000, every: 10 * Ms, until: 2 * Second);
        Wait(busy: 50 * Ms, every: 50 * Ms, until: (2 * Second) + (50 * Ms));
        Wait(busy: 5_000, every: 10 * Ms, until: 6 * Second);

        Assert.Equal([(2 * Second) + (50 * Ms) + (3 * Second)], _fired);
    }

    [Fact]
    public void AfterAResetOnlyOutputOfTheNewBootCounts()
    {
        _printed = 7;
        Wait(busy: 5_000, every: 10 * Ms, until: 4 * Second);
        Assert.Single(_fired);

        _idle.BeginBoot();
        Wait(busy: 5_000, every: 10 * Ms, until: 8 * Second);
        Assert.Single(_fired);

        _printed++;
        Wait(busy: 5_000, every: 10 * Ms, until: 12 * Second);
        Assert.Equal([(10 * Ms) + (3 * Second), (8 * Second) + (10 * Ms) + (3 * Second)], _fired);
    }

    /// <summary>Input waits every <paramref name="every"/> of virtual time, <paramref name="busy"/> of it busy, from the last one up to <paramref name="until"/>.</summary>
    private void Wait(long busy, long every, long until)
    {
        while (_now + every <= until)
        {
            _now += every;
            _busy += busy;
            _idle.InputWait(_busy, _now);
        }
    }
}
