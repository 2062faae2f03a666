// An ILog whose destination is set after the node is built (the job that receives the lines
// needs the node first). Lines before that are dropped; the destination does the filtering.
using FlannelPS.Core.Diagnostics;

namespace FlannelPS.Infrastructure;

internal sealed class DeferredLog : ILog
{
    public ILog? Target { get; set; }
    public bool IsEnabled(LogLevel level) => Target?.IsEnabled(level) == true;
    public void Write(LogLevel level, string message) => Target?.Write(level, message);
}
