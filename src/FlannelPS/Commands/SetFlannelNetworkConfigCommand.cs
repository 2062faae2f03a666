// Set-FlannelNetworkConfig: writes <prefix>/config, validated first with flannel's rules, so an
// invalid config is never written. A config from Get-FlannelNetworkConfig round-trips from the
// pipeline to where it was read. A config that strands existing leases (they no longer fit) is
// named in a warning and needs a second confirmation or -Force.
using System.Management.Automation;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Set, "FlannelNetworkConfig", SupportsShouldProcess = true, DefaultParameterSetName = ParametersSet)]
[OutputType(typeof(FlannelNetworkConfig))]
public sealed class SetFlannelNetworkConfigCommand : EtcdCmdlet
{
    private const string ParametersSet = "Parameters";
    private const string JsonSet = "Json";
    private const string InputObjectSet = "InputObject";

    /// <summary>The cluster-wide network in CIDR form, e.g. 10.0.0.0/16.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string Network { get; set; } = null!;

    /// <summary>Prefix length of each host's subnet (default 24, or Network+2 for small networks).</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateRange(1, 32)]
    public int SubnetLen { get; set; }

    /// <summary>First subnet address handed out (default: the second subnet).</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    public string? SubnetMin { get; set; }

    /// <summary>Last subnet address handed out (default: the last subnet).</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    public string? SubnetMax { get; set; }

    /// <summary>Backend type written as Backend.Type (flannel defaults to udp when absent).</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateSet("udp", "vxlan", "host-gw", "alloc")]
    public string? BackendType { get; set; }

    /// <summary>UDP port of the udp (default 8285) or vxlan (default 8472) backend.</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateRange(1, 65535)]
    public int BackendPort { get; set; }

    /// <summary>VXLAN network identifier (vxlan backend; default 1).</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateRange(0, 16777215)]
    public int VNI { get; set; } = -1;

    /// <summary>vxlan: route peers on the same L2 segment directly via their PublicIP, without encapsulation.</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    public SwitchParameter DirectRouting { get; set; }

    /// <summary>The whole config as JSON, written as given after validation.</summary>
    [Parameter(Mandatory = true, ParameterSetName = JsonSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Json { get; set; } = null!;

    /// <summary>A config from Get-FlannelNetworkConfig: its Json is written to the etcd prefix and endpoints it was read from.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public FlannelNetworkConfig InputObject { get; set; } = null!;

    /// <summary>Write even when the new config strands existing leases, without asking.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Emit the config that was written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        // This invocation's registry, made here on the pipeline thread (it connects on first use).
        var (options, registry) = ParameterSetName == InputObjectSet
            ? Checked(() => RegistryForOrigin(InputObject.EtcdEndpoint, InputObject.EtcdPrefix, $"Config {InputObject.Key}"))
            : InvocationRegistry();
        var force = Force.IsPresent;
        RunAsync(async ct =>
        {
            var json = ParameterSetName switch { JsonSet => Json.Trim(), InputObjectSet => InputObject.Json.Trim(), _ => BuildJson() };
            var config = NetworkConfigParser.Parse(json); // throws with flannel's text; nothing written
            if (BackendRegistry.Default.Kinds.Any(k => k.Type == config.BackendType))
                BackendRegistry.Default.Describe(config); // the backend's own keys (VNI, Port, MTU…), same rule
            if (!Confirm($"{options.ConfigKey} at {options.EndpointList}", $"Set network config {json}")) return;
            var stranded = StrandedLeases.By(config, (await registry.GetLeasesWithoutExpirationAsync(ct).ConfigureAwait(false)).Leases);
            if (stranded.Count > 0)
            {
                var text = StrandedLeases.Describe(config, stranded);
                EmitWarning(text);
                if (!force && !OnPipeline(() => AskToStrand(text))) return;
            }
            await registry.PutNetworkConfigAsync(json, ct).ConfigureAwait(false);
            if (PassThru) Emit(new FlannelNetworkConfig(config, options));
        });
    }

    // The second, high-impact question; a session that cannot ask gets an error saying to pass -Force.
    private bool AskToStrand(string text)
    {
        try
        {
            return ShouldContinue(text + " Write the config anyway?", "Set-FlannelNetworkConfig strands leases");
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or System.Management.Automation.Host.HostException)
        {
            throw new FlannelException("FlannelConfigStrandsLeases", FlannelErrorCategory.InvalidOperation,
                text + " Nothing was written: pass -Force to write it anyway.", InputObject?.Key ?? Network ?? Json, ex);
        }
    }

    private string BuildJson()
    {
        if (!Ip4Net.TryParse(Network, out var network))
            throw Invalid($"invalid CIDR address: {Network}", Network);
        return NetworkConfigJson.Build(
            network,
            MyInvocation.BoundParameters.ContainsKey(nameof(SubnetLen)) ? SubnetLen : null,
            ParseIp(SubnetMin, nameof(SubnetMin)),
            ParseIp(SubnetMax, nameof(SubnetMax)),
            BackendType,
            MyInvocation.BoundParameters.ContainsKey(nameof(BackendPort)) ? BackendPort : null,
            VNI >= 0 ? VNI : null,
            MyInvocation.BoundParameters.ContainsKey(nameof(DirectRouting)) ? DirectRouting.IsPresent : null);
    }

    private Ip4? ParseIp(string? text, string name) =>
        text is null ? null : Ip4.TryParse(text, out var ip) ? ip : throw Invalid($"-{name} '{text}' is not a valid IPv4 address.", text);

    private static FlannelException Invalid(string message, object target) =>
        new("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument, message, target);
}
