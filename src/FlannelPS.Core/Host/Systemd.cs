// systemd as FlannelPS's steps use it: whether it is the init (sd_booted's test: it owns
// /run/systemd/system), and systemctl through the command runner, with one way to say a call failed.
// The Docker restart and the flanneld service installer both go through here.
using System.Globalization;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Host;

public sealed class Systemd(ICommandRunner? runner = null, string runtimeDirectory = Systemd.DefaultRuntimeDirectory)
{
    public const string DefaultRuntimeDirectory = "/run/systemd/system";

    private readonly ICommandRunner _runner = runner ?? ProcessCommandRunner.Default;

    /// <summary>True when PID 1 is systemd.</summary>
    public bool IsRunning => Directory.Exists(runtimeDirectory);

    /// <summary>"systemd is not running on this host (… does not exist)", the start of every message about it.</summary>
    public string NotRunningText => $"systemd is not running on this host ({runtimeDirectory} does not exist)";

    /// <summary>Runs systemctl; the caller decides what a failure means.</summary>
    public Task<CommandResult> SystemctlAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        _runner.RunAsync("systemctl", args, cancellationToken);

    /// <summary>Runs systemctl and throws what <paramref name="failed"/> makes of a failure.</summary>
    public async Task SystemctlCheckedAsync(IReadOnlyList<string> args, Func<string, FlannelException> failed, CancellationToken cancellationToken)
    {
        var r = await SystemctlAsync(args, cancellationToken).ConfigureAwait(false);
        if (!r.Succeeded) throw failed(FailureText(args, r));
    }

    /// <summary>"`systemctl ARGS` failed (exit N): STDERR." (one full stop, whether or not systemctl ended with one).</summary>
    public static string FailureText(IReadOnlyList<string> args, CommandResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"`systemctl {string.Join(' ', args)}` failed (exit {r.ExitCode}): {r.StdErr.Trim().TrimEnd('.')}.");
}
