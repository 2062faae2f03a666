// Set-FlannelNetworkConfig: writes <prefix>/config, validated first with flannel's rules, so an
// invalid config is never written.
using System.Management.Automation;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Set, "FlannelNetworkConfig", SupportsShouldProcess = true, DefaultParameterSetName = ParametersSet)]
[OutputType(typeof(FlannelNetworkConfig))]
public sealed class SetFlannelNetworkConfigCommand : EtcdCmdlet
{
    private const string ParametersSet = "Parameters";
    private const string JsonSet = "Json";

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
    [Parameter(Mandatory = true, ParameterSetName = JsonSet, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public string Json { get; set; } = null!;

    /// <summary>Emit the config that was written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        // This invocation's registry, made here on the pipeline thread (it connects on first use).
        var (options, registry) = InvocationRegistry();
        RunAsync(async ct =>
        {
            var json = ParameterSetName == JsonSet ? Json.Trim() : BuildJson();
            var config = NetworkConfigParser.Parse(json); // throws with flannel's text; nothing written
            if (BackendRegistry.Default.Kinds.Any(k => k.Type == config.BackendType))
                BackendRegistry.Default.Describe(config); // the backend's own keys (VNI, Port, MTU…), same rule
            if (!Confirm($"{options.ConfigKey} at {options.EndpointList}", $"Set network config {json}")) return;
            await registry.PutNetworkConfigAsync(json, ct).ConfigureAwait(false);
            if (PassThru) Emit(new FlannelNetworkConfig(config, options.ConfigKey, options.EndpointList));
        });
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
