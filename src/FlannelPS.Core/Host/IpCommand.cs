// The one place that runs iproute2's `ip`. Link setup is done by the `ip` command rather than raw
// netlink (a deliberate shortcut). The child is forked from the calling thread, so it acts on that
// thread's network namespace, like the TUN fd opened on the same thread (ChildProcess.Run is
// synchronous for that reason).
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Host;

public sealed class IpCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public IpCommand(string executable = "ip") => Executable = executable;

    public string Executable { get; }

    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public Result Run(params string[] args)
    {
        var r = ChildProcess.Run(Executable, args, Timeout);
        if (r.TimedOut)
            throw new FlannelException("FlannelIpCommandTimeout", FlannelErrorCategory.OperationTimeout,
                $"'{ChildProcess.Describe(Executable, args)}' did not finish within {Timeout.TotalSeconds} s", args);
        return new Result(r.ExitCode, r.StandardOutput, r.StandardError.Trim());
    }

    /// <summary>Runs and throws a FlannelException quoting ip's own error when it fails.</summary>
    public string RunChecked(params string[] args)
    {
        var r = Run(args);
        if (r.ExitCode != 0) throw Failed(args, r);
        return r.StandardOutput;
    }

    /// <summary>The exception for a run of <paramref name="args"/> that failed with <paramref name="r"/>, quoting ip's own error.</summary>
    public FlannelException Failed(string[] args, Result r) =>
        new("FlannelLinkSetupFailed", FlannelErrorCategory.InvalidOperation,
            $"'{ChildProcess.Describe(Executable, args)}' failed: {r.StandardError}", args);
}
