// Runs a command with a hard timeout and returns its exit code and output (test helper).
using System.Diagnostics;

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
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit(5000);
            return new Result(-1, o.IsCompleted ? o.Result : "", "timeout: " + (e.IsCompleted ? e.Result : ""));
        }
        p.WaitForExit();
        return new Result(p.ExitCode, o.Result, e.Result);
    }

    public static Result Ip(params string[] args) => Run("ip", args);
}
