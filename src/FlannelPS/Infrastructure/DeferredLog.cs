// An ILog whose destination is set after the node is built (the job that receives the lines
// needs the node first). Lines before that are dropped.
using FlannelPS.Core.Diagnostics;

namespace FlannelPS.Infrastructure;

internal sealed class DeferredLog : ILog
{
    public LogLevel MinimumLevel { get; init; } = LogLevel.Info;
    public ILog? Target { get; set; }
    public bool IsEnabled(LogLevel level) => level >= MinimumLevel && Target?.IsEnabled(level) == true;
    public void Write(LogLevel level, string message)
    {
        if (level >= MinimumLevel) Target?.Write(level, message);
    }
}
