using System.Globalization;
using Emulator.Hosting.Reporting;
using Emulator.Core.Cpu;
using Emulator.Core.Machine;

namespace Emulator.Hosting.Boot;

/// <summary>
/// The rule of the <c>hang</c> stop: the firmware spins in a dead loop instead of booting, and
/// the run ends there with the loop named instead of spinning on to the instruction limit. edk2
/// ends every fatal path in CpuDeadLoop (MdePkg BaseLib CpuDeadLoop.c: <c>for (Index = 0; Index
/// == 0;) CpuPause ();</c> on a volatile local): a failed ASSERT, an unhandled exception
/// (CpuExceptionHandlerLib's CommonExceptionHandler prints "!!!! X64 Exception Type" and "Find
/// image based on IP", then dead-loops), a platform check such as OvmfPkg PlatformPei's SMRAM
/// check on a machine without SMM.
///
/// Sampled, never per instruction: at the run loop's host polls (between slices of blocks and at
/// every event, <see cref="Cpu.HostPoll"/>), once <see cref="SampleInterval"/> instructions have
/// passed since the last sample, the detector takes the CPU's state: the linear RIP and a
/// fingerprint of the general registers and RFLAGS. A dead loop changes nothing a sample sees —
/// it reads the same memory into the same registers — so its samples repeat a handful of states
/// within a few bytes of code. A computation (LZMA decompression, page-table building) changes
/// its registers from one sample to the next, and a timed wait reads a clock (the ACPI PM timer,
/// the TSC) into a register, so neither repeats. With interrupts enabled the timer handler runs
/// between iterations (and the drivers' timer callbacks poll the UART and keyboard), but it
/// restores the registers it interrupted: the few samples that land inside it are outliers.
///
/// A window of samples keeps each distinct state with its count. Starting a new window: a state
/// beyond <see cref="MaxStates"/>, console output, a machine reset, or the guest waiting for
/// input — input waits (UART or keyboard reads with nothing received, HLT) each at most
/// <see cref="MaxInstructionsBetweenWaits"/> after the previous, in one streak since before the
/// previous sample: what the <c>idle</c> rule calls waiting (<see cref="IdleDetector"/>), a
/// blocking serial read included, while the 20 ms timer polls in a dead loop are not. Once a
/// window has lasted <see cref="DefaultWindow"/> instructions, its loop states (each at least
/// 1/<see cref="LoopShareDivisor"/> of its samples) must hold 7/8 of the samples and lie within
/// <see cref="MaxLoopBytes"/> of code, or a new window starts; it is a hang when the loop's
/// first sample is <see cref="DefaultWindow"/> instructions old. Instruction counts
/// and guest state only, so it fires at the same instruction on every run.
/// </summary>
internal sealed class HangDetector
{
    /// <summary>Instructions between two samples: about one virtual millisecond of busy time.</summary>
    public const long SampleInterval = 1 << 20;

    /// <summary>
    /// How long a dead loop must spin before it is a hang: 1 billion instructions, one virtual
    /// second of busy time. No fixture's boot to <c>idle</c> shows a loop without progress at
    /// all (docs/boot.md, "Hangs"); the cost is the second spun before the report (about 4 s of
    /// wall time).
    /// </summary>
    public const long DefaultWindow = 1_000_000_000;

    /// <summary>Distinct states a window keeps; one more starts a new window (a computation fills it in 64 samples).</summary>
    public const int MaxStates = 64;

    /// <summary>A loop state holds at least this fraction (1/64) of the window's samples; rarer ones are outliers (interrupt handlers).</summary>
    public const int LoopShareDivisor = 64;

    /// <summary>The most code the sampled loop may span: one small loop, not a polling loop through several functions and modules.</summary>
    public const ulong MaxLoopBytes = 4096;

    /// <summary>Input waits at most this far apart are one wait for input (the <c>idle</c> rule's 1 ms of busy time).</summary>
    public const long MaxInstructionsBetweenWaits = IdleDetector.MaxBusyBetweenWaitsNs;

    private const long NoWindow = -1;

    private readonly long _window;
    private readonly LoopState[] _states = new LoopState[MaxStates];
    private int _stateCount;
    private int _samples;
    private long _windowStart = NoWindow;
    private long _progress;
    private long _lastSample = long.MinValue / 2;
    private long _lastWait = long.MinValue / 2;
    private long _streakStart;

    /// <param name="window">Instructions a dead loop must spin to be a hang (<see cref="DefaultWindow"/>).</param>
    public HangDetector(long window = DefaultWindow)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        _window = window;
    }

    /// <summary>The longest a loop has spun so far without progress, in instructions: how close the run came to a hang (diagnostics).</summary>
    public long LongestLoop { get; private set; }

    /// <summary>
    /// Watches <paramref name="machine"/> and stops it with <see cref="StopReason.Hang"/> and a
    /// detail naming the loop, its module (from <paramref name="modules"/>) and the guest
    /// exception before it, if any, and the ASSERT a DEBUG build printed on the debug console
    /// (<paramref name="debugLog"/>, when there is one). Console output is <paramref name="console"/>'s.
    /// </summary>
    public static HangDetector Watch(PcMachine machine, ConsoleTranscript console, ModuleRecognizer modules, DebugLogAssert? debugLog = null)
    {
        var detector = new HangDetector();
        var cpu = machine.Cpu;
        long nextSample = SampleInterval;
        long bootStart = 0;
        cpu.HostPoll += () =>
        {
            long now = cpu.InstructionCount;
            if (now < nextSample)
            {
                return;
            }

            nextSample = now + SampleInterval;
            if (detector.Sample(now, cpu.LinearRip, Fingerprint(cpu), console.BytesPrinted) is { } loop)
            {
                var fault = cpu.LastGuestException is { } f && f.Instruction >= bootStart ? f : (GuestException?)null;
                cpu.RequestStop(StopReason.Hang, Describe(loop, fault, debugLog?.LastAssert, address => Where(modules, address)));
            }
        };
        IdleDetector.OnInputWait(machine, () => detector.InputWait(cpu.InstructionCount));
        machine.Rebooted += r =>
        {
            bootStart = r.Instruction;
            detector.Restart();
        };
        return detector;
    }

    /// <summary>The guest waits for input (a UART or keyboard read with nothing received, or HLT) at instruction <paramref name="instruction"/>.</summary>
    public void InputWait(long instruction)
    {
        if (instruction - _lastWait > MaxInstructionsBetweenWaits)
        {
            _streakStart = instruction;
        }

        _lastWait = instruction;
    }

    /// <summary>Forgets the window (a machine reset: the firmware starts over).</summary>
    public void Restart()
    {
        _stateCount = 0;
        _samples = 0;
        _windowStart = NoWindow;
    }

    /// <summary>
    /// One sample: the CPU at <paramref name="address"/> with register fingerprint
    /// <paramref name="fingerprint"/> at instruction <paramref name="instruction"/>, the console
    /// having printed <paramref name="printed"/> bytes so far. Returns the loop when the window
    /// shows a hang (then a new window starts), otherwise null.
    /// </summary>
    public HangLoop? Sample(long instruction, ulong address, ulong fingerprint, long printed)
    {
        bool waiting = instruction - _lastWait <= MaxInstructionsBetweenWaits && _streakStart <= _lastSample;
        _lastSample = instruction;
        if (waiting || printed != _progress || !TryAdd(instruction, address, fingerprint))
        {
            _progress = printed;
            Restart();
            TryAdd(instruction, address, fingerprint);
            return null;
        }

        // A window may open with a computation's last samples before the loop: the loop itself
        // must have spun a whole window (from its first sample), so it fires at most one sample
        // late and never early. A long window that is no small loop starts over.
        var loop = Loop();
        long age = loop != null ? instruction - loop.Since : 0;
        LongestLoop = Math.Max(LongestLoop, age);
        if (instruction - _windowStart < _window || (loop != null && age < _window))
        {
            return null;
        }

        Restart();
        TryAdd(instruction, address, fingerprint);
        return loop;
    }

    /// <summary>The one-line description of a hang for the report: the loop, its module, the guest exception before it and the last ASSERT the debug log showed.</summary>
    public static string Describe(HangLoop loop, GuestException? fault, string? lastAssert, Func<ulong, string> where)
    {
        var c = CultureInfo.InvariantCulture;
        string range = loop.Low == loop.High ? Hex.Format(loop.Low) : $"{Hex.Format(loop.Low)}-{Hex.Format(loop.High)}";
        string text = string.Create(c, $"dead loop at {range}{where(loop.Low)} since instruction {loop.Since:N0}");
        if (fault is { } f)
        {
            string name = Vector.Mnemonic(f.Vector) is { } m ? "a " + m : "an exception";
            text += string.Create(c, $", after {name} (vector {f.Vector}) at {Hex.Format(f.Address)}{where(f.Address)}, instruction {f.Instruction:N0}");
        }

        if (lastAssert is not null)
        {
            text += $"; the debug log's last ASSERT: {lastAssert}";
        }

        return text;
    }

    /// <summary>" in NAME (+0xRVA)" for an address inside a recognised module, empty otherwise.</summary>
    private static string Where(ModuleRecognizer modules, ulong address) =>
        modules.ModuleAt(address) is { } m ? $" in {m.Module.Name ?? m.Module.FileGuid.ToString()} (+{Hex.Format(address - m.ImageStart)})" : string.Empty;

    /// <summary>The general registers and RFLAGS folded into 64 bits (FNV-1a over the values).</summary>
    private static ulong Fingerprint(Cpu cpu)
    {
        const ulong Prime = 0x100000001B3;
        ulong hash = 0xCBF29CE484222325 ^ cpu.RFlagsValue;
        for (int i = 0; i < 16; i++)
        {
            hash = (hash ^ cpu.GetGpr(i)) * Prime;
            hash ^= hash >> 32;
        }

        return hash;
    }

    /// <summary>Counts the sample into its state; false when the window holds <see cref="MaxStates"/> others already.</summary>
    private bool TryAdd(long instruction, ulong address, ulong fingerprint)
    {
        for (int i = 0; i < _stateCount; i++)
        {
            ref var s = ref _states[i];
            if (s.Address == address && s.Fingerprint == fingerprint)
            {
                s.Count++;
                _samples++;
                return true;
            }
        }

        if (_stateCount == MaxStates)
        {
            return false;
        }

        _states[_stateCount++] = new LoopState { Address = address, Fingerprint = fingerprint, Count = 1, First = instruction };
        _samples++;
        if (_windowStart == NoWindow)
        {
            _windowStart = instruction;
        }

        return true;
    }

    /// <summary>The window's loop when its frequent states hold 7/8 of the samples within <see cref="MaxLoopBytes"/>; null otherwise.</summary>
    private HangLoop? Loop()
    {
        int threshold = Math.Max(2, _samples / LoopShareDivisor);
        ulong low = ulong.MaxValue, high = 0;
        long since = long.MaxValue;
        int covered = 0;
        foreach (var s in _states.AsSpan(0, _stateCount))
        {
            if (s.Count >= threshold)
            {
                covered += s.Count;
                low = Math.Min(low, s.Address);
                high = Math.Max(high, s.Address);
                since = Math.Min(since, s.First);
            }
        }

        return covered > 0 && covered * 8L >= _samples * 7L && high - low <= MaxLoopBytes ? new HangLoop(low, high, since, covered, _samples) : null;
    }

    private struct LoopState
    {
        public ulong Address;
        public ulong Fingerprint;
        public int Count;
        public long First;
    }
}

/// <summary>
/// A dead loop: the lowest and highest sampled address, the instruction of its first sample,
/// and how many of the window's samples fell in it.
/// </summary>
internal sealed record HangLoop(ulong Low, ulong High, long Since, int LoopSamples, int WindowSamples);
