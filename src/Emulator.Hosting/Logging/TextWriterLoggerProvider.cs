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

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    /// <summary>
    /// The loggers of one command, writing to <paramref name="writer"/> from <paramref name="level"/>
    /// up. Built directly: <c>LoggerFactory.Create</c> sets up a dependency-injection container
    /// first, which took ~23 ms of a boot's ~240 ms from process start to the reset vector.
    /// </summary>
    public static ILoggerFactory Factory(TextWriter writer, LogLevel level) =>
        new LoggerFactory([new TextWriterLoggerProvider(writer)], new LoggerFilterOptions { MinLevel = level });

    public void Dispose() => writer.Flush();

    private void Write(string line)
    {
        lock (_lock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    private sealed class Logger(TextWriterLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
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
