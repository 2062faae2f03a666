// Set-FlannelDockerBridge: gives docker0 flannel's subnet address and MTU before Docker starts.
using System.Management.Automation;
using FlannelPS.Core.Docker;
using FlannelPS.Core.Files;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Set, "FlannelDockerBridge", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FlannelDockerBridge))]
public sealed class SetFlannelDockerBridgeCommand : FlannelCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>The bridge to configure; created when absent. Default docker0.</summary>
    [Parameter(Position = 0, ParameterSetName = DefaultSet)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string Bridge { get; set; } = DockerBridge.DefaultName;

    /// <summary>The subnet.env whose FLANNEL_SUBNET and FLANNEL_MTU the bridge gets. Default /run/flannel/subnet.env.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string SubnetFile { get; set; } = SubnetEnvFile.DefaultPath;

    /// <summary>Emit a FlannelDockerBridge object listing the changes made.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var subnetFile = ResolvePath(SubnetFile);
        var name = Bridge;
        RunAsync(async ct =>
        {
            var target = BridgeTarget.FromSubnetEnv(EnvFile.Read(subnetFile), subnetFile);
            var bridge = new DockerBridge();
            var plan = await bridge.PlanAsync(name, target, ct).ConfigureAwait(false);
            if (plan.Changes.Count == 0)
            {
                EmitVerbose($"{name} already has {target.Cidr}, MTU {target.Mtu} and is up; nothing to do.");
            }
            else if (Confirm(name, $"Set address {target.Cidr} and MTU {target.Mtu}: {string.Join("; ", plan.Changes)}"))
            {
                foreach (var c in plan.Changes) EmitVerbose(c.ToString());
                await bridge.ApplyAsync(plan, ct).ConfigureAwait(false);
            }
            else
            {
                return;
            }
            if (PassThru) Emit(plan.ToResult());
        });
    }
}
