// Core's logging seam: the node job turns these into job output/verbose records, flanneld into
// stderr lines. Hot paths check IsEnabled before formatting anything.
namespace FlannelPS.Core.Diagnostics;

public enum LogLevel { Debug, Info, Warning, Error }

public interface ILog
{
    bool IsEnabled(LogLevel level);
    void Write(LogLevel level, string message);
}

public static class LogExtensions
{
    public static void Debug(this ILog log, string message) { if (log.IsEnabled(LogLevel.Debug)) log.Write(LogLevel.Debug, message); }
    public static void Info(this ILog log, string message) => log.Write(LogLevel.Info, message);
    public static void Warning(this ILog log, string message) => log.Write(LogLevel.Warning, message);
    public static void Error(this ILog log, string message) => log.Write(LogLevel.Error, message);
}

public sealed class NullLog : ILog
{
    public static readonly NullLog Instance = new();
    public bool IsEnabled(LogLevel level) => false;
    public void Write(LogLevel level, string message) { }
}
