// Restarting Docker through systemd, only where systemd is the init.
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Docker;

public sealed class SystemdDocker(Systemd? systemd = null)
{
    private readonly Systemd _systemd = systemd ?? new Systemd();

    /// <summary>systemctl daemon-reload, then systemctl restart docker. Throws
    /// <see cref="SystemdNotRunningException"/> when systemd is not the init.</summary>
    public async Task RestartDockerAsync(string configPath, CancellationToken cancellationToken)
    {
        if (!_systemd.IsRunning) throw new SystemdNotRunningException(_systemd, configPath);
        foreach (var args in new[] { new[] { "daemon-reload" }, new[] { "restart", "docker" } })
        {
            await _systemd.SystemctlCheckedAsync(args, text => new FlannelException("FlannelDockerRestartFailed", FlannelErrorCategory.InvalidOperation,
                $"{text} See `journalctl -u docker`.", "docker"), cancellationToken).ConfigureAwait(false);
        }
    }
}

public sealed class SystemdNotRunningException(Systemd systemd, string configPath)
    : FlannelException("FlannelSystemdNotRunning", FlannelErrorCategory.ResourceUnavailable,
        $"{systemd.NotRunningText}, so Docker was not restarted. " +
        $"'{configPath}' is in place; restart dockerd yourself so it picks it up, e.g. `set -a; . /run/docker_opts.env; dockerd $DOCKER_OPTS`.",
        configPath);
