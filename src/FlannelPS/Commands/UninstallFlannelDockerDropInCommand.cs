// Uninstall-FlannelDockerDropIn: removes what Install-FlannelDockerDropIn wrote: the drop-in file,
// or only the daemon.json keys it set (restoring the values they replaced).
using System.Management.Automation;
using FlannelPS.Core.Docker;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsLifecycle.Uninstall, "FlannelDockerDropIn", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FlannelDockerConfig))]
public sealed class UninstallFlannelDockerDropInCommand : DockerConfigCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>DropIn (default) or DaemonJson: which installation to undo.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public DockerConfigMethod Method { get; set; } = DockerConfigMethod.DropIn;

    /// <summary>The drop-in file or daemon.json Install wrote (same defaults as Install).</summary>
    [Parameter(Position = 0, ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Remove a drop-in even though it lacks FlannelPS's marker line.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Emit a FlannelDockerConfig object describing what was removed.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var method = Method;
        var path = ResolvePath(
            Path ?? (method == DockerConfigMethod.DaemonJson ? DockerDaemonJson.DefaultPath : DockerDropIn.DefaultPath));
        var force = Force.IsPresent;
        RunAsync(async ct =>
        {
            var plan = method == DockerConfigMethod.DaemonJson
                ? DockerServiceConfig.PlanRemoveDaemonJson(path)
                : DockerServiceConfig.PlanRemoveDropIn(path, force);
            if (!plan.Changed)
            {
                EmitVerbose($"Nothing of FlannelPS's to remove at '{path}'.");
                return;
            }
            var action = method == DockerConfigMethod.DaemonJson
                ? $"Remove FlannelPS's keys ({string.Join(", ", plan.Keys)}) from '{path}'"
                : $"Remove drop-in '{path}'";
            if (!OnPipeline(() => ShouldProcess(action, action + "?", "Uninstall-FlannelDockerDropIn"))) return;
            DockerServiceConfig.Apply(plan);
            foreach (var key in plan.KeysSkipped)
                EmitWarning($"'{key}' in '{path}' was changed after Install-FlannelDockerDropIn set it; left as it is.");
            var restarted = await RestartDockerIfAskedAsync(path, ct).ConfigureAwait(false);
            if (PassThru) Emit(plan with { Restarted = restarted });
        });
    }
}
