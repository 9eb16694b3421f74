using Emulator.Hosting.Boot;

namespace Emulator.Hosting.Tests.Boot;

/// <summary>
/// The <c>hang</c> stop's rule on synthetic samples (a loop with and without progress, the timer
/// handler's outliers, a computation, a wait for input, a loop over more than a page), and the
/// DEBUG log's last-ASSERT tail. Real firmware hangs are in
/// <see cref="HangDetectionTests"/>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HangDetectorTests
{
    private const long Window = HangDetector.DefaultWindow;
    private const long Step = HangDetector.SampleInterval;
    private const ulong Loop = 0x828ED0;

    [Fact]
    public void ALoopWithoutProgressIsAHangOneWindowAfterItStarts()
    {
        // A computation (new registers at every sample), then the loop: two states, and every
        // 50th sample in the timer handler, in a state of its own (a tick counter).
        var detector = new HangDetector();
        long start = 100 * Step;
        Assert.Null(Run(detector, 0, start, i => (0x100000 + ((ulong)i * 16), (ulong)i)).Found);
        var (found, at) = Run(detector, start, start + (2 * Window), i => i % 50 == 0 ? (0xF025000 + (ulong)(i % 256), (ulong)i) : (Loop + (ulong)(i % 2 * 4), 7));

        Assert.NotNull(found);
        Assert.Equal(Loop, found.Low);
        Assert.Equal(Loop + 4, found.High);
        Assert.InRange(found.Since, start, start + Step);
        Assert.InRange(at - found.Since, Window, Window + Step);
    }

    [Fact]
    public void ConsoleOutputComputationAndWaitingForInputAreNotHangs()
    {
        // The same loop printing a byte now and then (a countdown), or waiting for input.
        var printing = new HangDetector();
        long printed = 0;
        Assert.Null(Run(printing, 0, 3 * Window, i => (Loop, 7), i => i % 500 == 0 ? ++printed : printed).Found);

        var reading = new HangDetector();
        Assert.Null(Run(reading, 0, 3 * Window, i => (Loop, 7), everyWait: 300).Found);

        // A computation: its registers differ at every sample, in a small loop too.
        Assert.Null(Run(new HangDetector(), 0, 3 * Window, i => (Loop + (ulong)(i % 3), (ulong)i)).Found);

        // A dead loop whose only company is the drivers' 20 ms timer polls is still a hang.
        Assert.NotNull(Run(new HangDetector(), 0, 3 * Window, i => (Loop, 7), everyWait: 20_000_000).Found);
    }

    [Fact]
    public void ALoopSpreadOverMoreThanAPageOfCodeIsNotADeadLoop()
    {
        // A polling loop through two modules (CheckEvent in the DXE core and its caller).
        var (found, _) = Run(new HangDetector(), 0, 3 * Window, i => (i % 2 == 0 ? Loop : Loop + HangDetector.MaxLoopBytes + 1, 7));

        Assert.Null(found);
    }

    [Fact]
    public void TheDebugLogKeepsOnlyItsLastAssertLine()
    {
        var tail = new DebugLogAssert();
        var seen = new List<byte>();
        Action<byte> output = tail.Tee(seen.Add);
        byte[] text = System.Text.Encoding.ASCII.GetBytes("Loading PEIM\r\nASSERT [A] a.c(1): x\nnot an assert\nASSERT [B] b.c(2): " + new string('y', 400) + "\n");
        foreach (byte b in text)
        {
            output(b);
        }

        Assert.Equal(text, seen);
        Assert.StartsWith("ASSERT [B] b.c(2): yyy", tail.LastAssert);
        Assert.True(tail.LastAssert!.Length <= 240);
    }

    /// <summary>Feeds samples every <see cref="Step"/> instructions from <paramref name="from"/> to <paramref name="to"/>; input waits every <paramref name="everyWait"/> instructions.</summary>
    private static (HangLoop? Found, long At) Run(
        HangDetector detector, long from, long to, Func<long, (ulong Address, ulong State)> sample, Func<long, long>? printed = null, long everyWait = 0)
    {
        long nextWait = everyWait > 0 ? from : long.MaxValue;
        for (long i = from / Step; i * Step < to; i++)
        {
            long at = i * Step;
            for (; nextWait <= at; nextWait += everyWait)
            {
                detector.InputWait(nextWait);
            }

            var (address, state) = sample(i);
            if (detector.Sample(at, address, state, printed?.Invoke(i) ?? 0) is { } loop)
            {
                return (loop, at);
            }
        }

        return (null, 0);
    }
}
