// Install-FlannelDockerDropIn: makes docker.service start dockerd with flannel's options, through
// a systemd drop-in (default) or by merging bip/mtu into daemon.json (-Method DaemonJson).
using System.Management.Automation;
using FlannelPS.Core.Docker;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsLifecycle.Install, "FlannelDockerDropIn", SupportsShouldProcess = true, DefaultParameterSetName = DropInSet)]
[OutputType(typeof(FlannelDockerConfig))]
public sealed class InstallFlannelDockerDropInCommand : DockerConfigCmdlet
{
    private const string DropInSet = "DropIn";
    private const string DaemonJsonSet = "DaemonJson";

    /// <summary>DropIn (default): a systemd drop-in for docker.service. DaemonJson: merge bip/mtu into daemon.json.
    /// A parameter only the other method uses is an error.</summary>
    [Parameter(ParameterSetName = DropInSet)]
    [Parameter(ParameterSetName = DaemonJsonSet, Mandatory = true)]
    public DockerConfigMethod Method { get; set; } = DockerConfigMethod.DropIn;

    /// <summary>The file to write: the drop-in (default /etc/systemd/system/docker.service.d/flannel.conf)
    /// or, with -Method DaemonJson, daemon.json (default /etc/docker/daemon.json).</summary>
    [Parameter(Position = 0, ParameterSetName = DropInSet)]
    [Parameter(Position = 0, ParameterSetName = DaemonJsonSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The docker_opts.env the drop-in loads (EnvironmentFile=). Default /run/docker_opts.env. A relative
    /// path is resolved against the current location; a leading - (systemd: a missing file is no error) is kept.</summary>
    [Parameter(ParameterSetName = DropInSet)]
    [ValidateNotNullOrEmpty]
    public string EnvironmentFile { get; set; } = DockerOptionsSettings.DefaultOutputPath;

    /// <summary>dockerd's path in ExecStart. Default: the one docker.service runs, else /usr/bin/dockerd.</summary>
    [Parameter(ParameterSetName = DropInSet)]
    [ValidateNotNullOrEmpty]
    public string? DockerdPath { get; set; }

    /// <summary>The docker.service whose ExecStart flags are kept. Default: the first of /etc/systemd/system,
    /// /usr/lib/systemd/system, /lib/systemd/system that has one.</summary>
    [Parameter(ParameterSetName = DropInSet)]
    [ValidateNotNullOrEmpty]
    public string? DockerUnitPath { get; set; }

    /// <summary>The variable holding the options in docker_opts.env. Default DOCKER_OPTS.</summary>
    [Parameter(ParameterSetName = DropInSet)]
    [ValidatePattern("^[A-Za-z_][A-Za-z0-9_]*$")]
    public string Key { get; set; } = DockerOptionsSettings.DefaultKey;

    /// <summary>The subnet.env whose FLANNEL_SUBNET/FLANNEL_MTU go into daemon.json. Default /run/flannel/subnet.env.</summary>
    [Parameter(ParameterSetName = DaemonJsonSet)]
    [ValidateNotNullOrEmpty]
    public string SubnetFile { get; set; } = SubnetEnvFile.DefaultPath;

    /// <summary>Do not set ip-masq in daemon.json.</summary>
    [Parameter(ParameterSetName = DaemonJsonSet)]
    public SwitchParameter NoIpMasq { get; set; }

    protected override void ProcessRecord()
    {
        var method = Method;
        RefuseParametersOfOtherMethod(method);
        var path = ResolvePath(
            Path ?? (method == DockerConfigMethod.DaemonJson ? DockerDaemonJson.DefaultPath : DockerDropIn.DefaultPath));
        var unit = DockerUnitPath is null ? null : ResolvePath(DockerUnitPath);
        var subnetFile = ResolvePath(SubnetFile);
        var settings = new DropInSettings(ResolveEnvironmentFile(EnvironmentFile), DockerdPath, Key);
        var noIpMasq = NoIpMasq.IsPresent;
        RunAsync(async ct =>
        {
            var plan = method == DockerConfigMethod.DaemonJson
                ? DockerServiceConfig.PlanDaemonJson(path, subnetFile, noIpMasq)
                : DockerServiceConfig.PlanDropIn(path, unit, settings);
            if (!plan.Changed)
            {
                EmitVerbose($"'{path}' already has the wanted content; nothing written.");
            }
            else if (OnPipeline(() => ShouldProcess($"Write '{path}' with:\n{plan.Content}", $"Write '{path}' with:\n{plan.Content}\nContinue?", "Install-FlannelDockerDropIn")))
            {
                DockerServiceConfig.Apply(plan);
            }
            else
            {
                return;
            }
            var restarted = await RestartDockerIfAskedAsync(path, ct).ConfigureAwait(false);
            Emit(plan with { Restarted = restarted });
        });
    }

    // -Method is in both parameter sets, so PowerShell binds e.g. -Method DropIn -SubnetFile and
    // -Method DaemonJson -Key; -Method decides what is written, and the other method's parameter
    // would be ignored without a word. The sets themselves say which parameter is whose.
    private void RefuseParametersOfOtherMethod(DockerConfigMethod method)
    {
        var (own, other) = method == DockerConfigMethod.DaemonJson ? (DaemonJsonSet, DropInSet) : (DropInSet, DaemonJsonSet);
        var parameters = MyInvocation.MyCommand.Parameters;
        foreach (var name in MyInvocation.BoundParameters.Keys)
        {
            if (!parameters.TryGetValue(name, out var p) || p.ParameterSets.ContainsKey(own) || !p.ParameterSets.ContainsKey(other)) continue;
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new FlannelException("FlannelDockerMethodMismatch", FlannelErrorCategory.InvalidArgument,
                $"-{name} is a -Method {other} parameter; with -Method {own} it would be ignored, so nothing was written. " +
                $"Drop -{name}, or pass -Method {other}.", name)));
        }
    }

    // systemd ignores an EnvironmentFile= that is not absolute, so the drop-in gets the full path.
    private string ResolveEnvironmentFile(string path) =>
        path.StartsWith('-') ? "-" + ResolvePath(path[1..]) : ResolvePath(path);
}
