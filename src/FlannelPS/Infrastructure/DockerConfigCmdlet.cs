// What Install- and Uninstall-FlannelDockerDropIn share after changing Docker's configuration: the
// -Restart parameter and the confirmed daemon-reload + restart, where a host without systemd as
// init gets a non-terminating error rather than a failed command.
using System.Management.Automation;
using FlannelPS.Core.Docker;

namespace FlannelPS.Infrastructure;

public abstract class DockerConfigCmdlet : FlannelCmdlet
{
    /// <summary>Then run systemctl daemon-reload and systemctl restart docker (only where systemd is the init).</summary>
    [Parameter]
    public SwitchParameter Restart { get; set; }

    /// <summary>With -Restart and confirmation, restarts docker; true when it did.</summary>
    protected async Task<bool> RestartDockerIfAskedAsync(string path, CancellationToken ct)
    {
        if (!Restart || !Confirm("docker.service", "systemctl daemon-reload; systemctl restart docker")) return false;
        try
        {
            await new SystemdDocker().RestartDockerAsync(path, ct).ConfigureAwait(false);
            return true;
        }
        catch (SystemdNotRunningException ex)
        {
            EmitError(ex);
            return false;
        }
    }
}
