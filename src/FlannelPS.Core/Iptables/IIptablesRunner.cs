// Runs the iptables binary; the seam that lets tests run it inside a namespace or fake it.
using System.Diagnostics;

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
        var psi = new ProcessStartInfo(prefix.Count > 0 ? prefix[0] : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (prefix.Count > 0)
        {
            foreach (var a in prefix.Skip(1)) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add(executable);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            try { p.Kill(); } catch (InvalidOperationException) { }
            return new IptablesResult(-1, "", $"{executable} did not finish within {Timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        return new IptablesResult(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult().Trim());
    }
}
