// Restarting Docker through systemd, only where systemd is the init (it owns /run/systemd/system).
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Docker;

public sealed class SystemdDocker(ICommandRunner? runner = null, string systemdRuntimeDirectory = SystemdDocker.RuntimeDirectory)
{
    public const string RuntimeDirectory = "/run/systemd/system";

    private readonly ICommandRunner _runner = runner ?? ProcessCommandRunner.Default;

    /// <summary>True when PID 1 is systemd (sd_booted's test).</summary>
    public bool IsRunning => Directory.Exists(systemdRuntimeDirectory);

    /// <summary>systemctl daemon-reload, then systemctl restart docker. Throws
    /// <see cref="SystemdNotRunningException"/> when systemd is not the init.</summary>
    public async Task RestartDockerAsync(string configPath, CancellationToken cancellationToken)
    {
        if (!IsRunning) throw new SystemdNotRunningException(configPath);
        foreach (var args in new[] { new[] { "daemon-reload" }, new[] { "restart", "docker" } })
        {
            var r = await _runner.RunAsync("systemctl", args, cancellationToken).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new FlannelException("FlannelDockerRestartFailed", FlannelErrorCategory.InvalidOperation,
                    $"`systemctl {string.Join(' ', args)}` failed (exit {r.ExitCode}): {r.StdErr.Trim()}. See `journalctl -u docker`.", "docker");
        }
    }
}

public sealed class SystemdNotRunningException(string configPath)
    : FlannelException("FlannelSystemdNotRunning", FlannelErrorCategory.ResourceUnavailable,
        $"systemd is not running on this host ({SystemdDocker.RuntimeDirectory} does not exist), so Docker was not restarted. " +
        $"'{configPath}' is in place; restart dockerd yourself so it picks it up, e.g. `set -a; . /run/docker_opts.env; dockerd $DOCKER_OPTS`.",
        configPath);
