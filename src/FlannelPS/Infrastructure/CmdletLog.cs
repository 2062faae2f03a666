// Core log lines from a cmdlet's async body, as verbose/warning records on the pipeline thread.
using FlannelPS.Core.Diagnostics;

namespace FlannelPS.Infrastructure;

internal sealed class CmdletLog(FlannelCmdlet cmdlet) : ILog
{
    public bool IsEnabled(LogLevel level) => level >= LogLevel.Info;

    public void Write(LogLevel level, string message)
    {
        if (level >= LogLevel.Warning) cmdlet.EmitWarning(message);
        else if (level >= LogLevel.Info) cmdlet.EmitVerbose(message);
    }
}
