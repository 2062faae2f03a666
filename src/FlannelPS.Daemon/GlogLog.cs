// flanneld's log lines on stderr, in glog's shape: Lmmdd hh:mm:ss.uuuuuu pid source] message.
using System.Globalization;
using FlannelPS.Core.Diagnostics;

namespace FlannelPS.Daemon;

internal sealed class GlogLog : ILog
{
    private readonly object _gate = new();
    private readonly string _pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture).PadLeft(7);
    private readonly TextWriter _out;

    public GlogLog(TextWriter? output = null) => _out = output ?? Console.Error;

    /// <summary>The last error line written, so the exit path does not print the same failure twice.</summary>
    public string? LastError { get; private set; }

    public bool IsEnabled(LogLevel level) => level >= LogLevel.Info;

    public void Write(LogLevel level, string message)
    {
        if (level < LogLevel.Info) return;
        var letter = level switch { LogLevel.Warning => 'W', LogLevel.Error => 'E', _ => 'I' };
        var stamp = DateTime.Now.ToString("MMdd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        lock (_gate)
        {
            _out.WriteLine($"{letter}{stamp} {_pid} flanneld] {message}");
            if (level == LogLevel.Error) LastError = message;
        }
    }
}
