// Runs the iptables binary; the seam that lets tests run it inside a namespace or fake it.
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Iptables;

public sealed record IptablesResult(int ExitCode, string StandardOutput, string StandardError);

public interface IIptablesRunner
{
    IptablesResult Run(IReadOnlyList<string> args);
}

/// <summary>
/// Runs plain <c>iptables</c> (the nft backend on current distributions). <paramref name="commandPrefix"/>
/// is put in front, e.g. ["ip","netns","exec","ns1"] to act inside a namespace.
/// </summary>
public sealed class ProcessIptablesRunner(IReadOnlyList<string>? commandPrefix = null, string executable = "iptables") : IIptablesRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public IptablesResult Run(IReadOnlyList<string> args)
    {
        var prefix = commandPrefix ?? [];
        var r = prefix.Count > 0
            ? ChildProcess.Run(prefix[0], prefix.Skip(1).Append(executable).Concat(args), Timeout)
            : ChildProcess.Run(executable, args, Timeout);
        return r.TimedOut
            ? new IptablesResult(-1, "", $"{executable} did not finish within {Timeout.TotalSeconds} s")
            : new IptablesResult(r.ExitCode, r.StandardOutput, r.StandardError.Trim());
    }
}
