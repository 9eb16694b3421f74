namespace Emulator.Core.Cpu.Jit;

/// <summary>
/// Compiles hot blocks on a thread of its own, so the CPU thread never waits for the .NET JIT
/// (about a millisecond per block). The CPU thread hands over a block when it gets hot and goes
/// on interpreting it; the compiled method is installed when ready and used from the block's
/// next run. A compiled block does exactly what the interpreter does, so when it arrives changes
/// only the speed, never the instruction count or the guest's state. One per CPU (so per
/// machine): two machines in one process share no queue, thread or counters, and a machine
/// restored from a snapshot starts with an empty code cache and its own compiler.
/// </summary>
internal sealed class BackgroundCompiler : IDisposable
{
    private readonly Queue<Block> _pending = new();
    private readonly object _gate = new();
    private Thread? _thread;
    private bool _disposed;

    /// <summary>Blocks compiled, and blocks the compiler refused (left to the interpreter).</summary>
    public long Compiled { get; private set; }

    public long Failed { get; private set; }

    /// <summary>Why the last refused block was refused (for diagnostics), or null.</summary>
    public string? LastFailure { get; private set; }

    public void Enqueue(Block block)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _pending.Enqueue(block);
            if (_thread == null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "emu block compiler", Priority = ThreadPriority.BelowNormal };
                _thread.Start();
            }

            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Compiles <paramref name="block"/> on the calling thread (tests, and hosts that want it now).</summary>
    public bool CompileNow(Block block)
    {
        try
        {
            var compiled = BlockCompiler.Compile(block);

            // A null CPU returns at once: this call only makes the .NET JIT compile the method here.
            compiled(null!, null!, 0, 0);
            Volatile.Write(ref block.Compiled, compiled);
            lock (_gate)
            {
                Compiled++;
            }

            return true;
        }
        catch (Exception e)
        {
            // Whatever went wrong (a twin the compiler cannot express, the .NET JIT refusing the
            // method), the interpreter keeps the block: compilation only ever changes speed, and
            // an exception escaping this thread would end the process.
            lock (_gate)
            {
                Failed++;
                LastFailure = $"{e.GetType().Name}: {e.Message}";
            }

            return false;
        }
    }

    /// <summary>Stops the thread after the block it is compiling; queued blocks stay interpreted.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _pending.Clear();
            Monitor.Pulse(_gate);
        }
    }

    private void Run()
    {
        while (true)
        {
            Block block;
            lock (_gate)
            {
                while (_pending.Count == 0 && !_disposed)
                {
                    Monitor.Wait(_gate);
                }

                if (_disposed)
                {
                    return;
                }

                block = _pending.Dequeue();
            }

            CompileNow(block);
        }
    }
}
