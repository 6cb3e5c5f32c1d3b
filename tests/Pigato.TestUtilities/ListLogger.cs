using Microsoft.Extensions.Logging;

namespace Pigato.TestUtilities;

/// <summary>Collects log lines in memory, so that a failing test can show what an actor logged.</summary>
public sealed class ListLogger : ILoggerProvider, ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{DateTime.Now:HH:mm:ss.fff} {logLevel} {eventId.Name}: {formatter(state, exception)}");
        }
    }

    public void Dispose()
    {
    }
}
