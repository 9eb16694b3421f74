namespace Emulator.Core.Cpu.Jit;

/// <summary>
/// Compiles hot blocks on a thread of its own, so the CPU thread never waits for the .NET JIT
/// (about a millisecond per block). The CPU thread hands over a block when it gets hot and goes
/// on interpreting it; the compiled method is installed when ready and used from the block's
/// next run. A compiled block does exactly what the interpreter does, so when it arrives changes
/// only the speed, never the instruction count or the guest's state.
/// </summary>
internal static class BackgroundCompiler
{
    private static readonly Queue<Block> Pending = new();
    private static readonly object Gate = new();
    private static Thread? _thread;

    /// <summary>Blocks compiled, and blocks the compiler refused (left to the interpreter), process-wide.</summary>
    public static long Compiled { get; private set; }

    public static long Failed { get; private set; }

    /// <summary>Why the last refused block was refused (for diagnostics), or null.</summary>
    public static string? LastFailure { get; private set; }

    public static void Enqueue(Block block)
    {
        lock (Gate)
        {
            Pending.Enqueue(block);
            if (_thread == null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "emu block compiler", Priority = ThreadPriority.BelowNormal };
                _thread.Start();
            }

            Monitor.Pulse(Gate);
        }
    }

    /// <summary>Compiles <paramref name="block"/> on the calling thread (tests, and hosts that want it now).</summary>
    public static bool CompileNow(Block block)
    {
        try
        {
            var compiled = BlockCompiler.Compile(block);

            // A null CPU returns at once: this call only makes the .NET JIT compile the method here.
            compiled(null!, null!, 0, 0);
            Volatile.Write(ref block.Compiled, compiled);
            Compiled++;
            return true;
        }
        catch (Exception e)
        {
            // Whatever went wrong (a twin the compiler cannot express, the .NET JIT refusing the
            // method), the interpreter keeps the block: compilation only ever changes speed, and
            // an exception escaping this thread would end the process.
            Failed++;
            LastFailure = $"{e.GetType().Name}: {e.Message}";
            return false;
        }
    }

    private static void Run()
    {
        while (true)
        {
            Block block;
            lock (Gate)
            {
                while (Pending.Count == 0)
                {
                    Monitor.Wait(Gate);
                }

                block = Pending.Dequeue();
            }

            CompileNow(block);
        }
    }
}
