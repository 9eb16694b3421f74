using Microsoft.Extensions.Logging;

namespace Emulator.Hosting.Logging;

/// <summary>
/// Writes log lines to a <see cref="TextWriter"/> (the process's stderr, or a test's capture):
/// stdout belongs to the guest's serial console alone. One line per message, "emu: " for
/// information, "emu: warning: " and "emu: error: " for the rest, debug lines prefixed "emu: debug: ".
/// </summary>
internal sealed class TextWriterLoggerProvider(TextWriter writer) : ILoggerProvider
{
    private readonly object _lock = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, LogLevel.Trace);

    /// <summary>
    /// The loggers of one command, writing to <paramref name="writer"/> from <paramref name="level"/>
    /// up. A factory of our own, not Microsoft's: <c>LoggerFactory.Create</c> sets up a
    /// dependency-injection container first (~23 ms of a boot's ~240 ms from process start to the
    /// reset vector), and <c>LoggerFactory</c> itself reads its providers' attributes by reflection
    /// and JIT-compiles its lists (~10 ms more); one provider and one level need neither.
    /// </summary>
    public static ILoggerFactory Factory(TextWriter writer, LogLevel level) => new LevelFactory(new TextWriterLoggerProvider(writer), level);

    private sealed class LevelFactory(TextWriterLoggerProvider provider, LogLevel level) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new Logger(provider, level);

        public void AddProvider(ILoggerProvider other) => throw new NotSupportedException("these loggers write to one writer");

        public void Dispose() => provider.Dispose();
    }

    public void Dispose() => writer.Flush();

    private void Write(string line)
    {
        lock (_lock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    private sealed class Logger(TextWriterLoggerProvider owner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string prefix = logLevel switch
            {
                LogLevel.Trace or LogLevel.Debug => "emu: debug: ",
                LogLevel.Information => "emu: ",
                LogLevel.Warning => "emu: warning: ",
                _ => "emu: error: ",
            };
            owner.Write(prefix + formatter(state, exception));
        }
    }
}
