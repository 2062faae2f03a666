// ILog that keeps every line, so tests can assert flannel's log texts.
using System.Collections.Concurrent;
using FlannelPS.Core.Diagnostics;

namespace FlannelPS.Core.Tests.Fakes;

public sealed class ListLog : ILog
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => _lines.ToArray();
    public IReadOnlyList<string> Messages => _lines.Select(l => l.Message).ToArray();

    public bool IsEnabled(LogLevel level) => true;
    public void Write(LogLevel level, string message) => _lines.Enqueue((level, message));

    public bool Contains(string fragment) => _lines.Any(l => l.Message.Contains(fragment, StringComparison.Ordinal));
    public int Count(string fragment) => _lines.Count(l => l.Message.Contains(fragment, StringComparison.Ordinal));
}
