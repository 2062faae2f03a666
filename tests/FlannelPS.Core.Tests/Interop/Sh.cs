// Runs a command with a hard timeout and returns its exit code and output (test helper).
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Tests.Interop;

internal static class Sh
{
    public sealed record Result(int Code, string Out, string Err)
    {
        public Result Ok(string what)
        {
            if (Code != 0) throw new InvalidOperationException($"{what} failed ({Code}): {Err} {Out}");
            return this;
        }
    }

    public static Result Run(string file, IEnumerable<string> args, int timeoutMs = 20_000)
    {
        var r = ChildProcess.Run(file, args, TimeSpan.FromMilliseconds(timeoutMs));
        return r.TimedOut ? new Result(-1, "", "timeout") : new Result(r.ExitCode, r.StandardOutput, r.StandardError);
    }

    public static Result Ip(params string[] args) => Run("ip", args);
}
