// Get-FlannelNetworkConfig: reads <prefix>/config as flannel reads it, defaults applied.
using System.Management.Automation;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Subnet;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Get, "FlannelNetworkConfig")]
[OutputType(typeof(FlannelNetworkConfig))]
public sealed class GetFlannelNetworkConfigCommand : EtcdCmdlet
{
    protected override void ProcessRecord() => RunAsync(async ct =>
    {
        var options = BuildEtcdOptions();
        await using var registry = OpenRegistry();
        var manager = new SubnetManager(registry, TimeProvider.System, Random.Shared, NullLog.Instance);
        var config = await manager.GetNetworkConfigAsync(ct).ConfigureAwait(false);
        Emit(new FlannelNetworkConfig(config, options.ConfigKey, options.EndpointList));
    });
}
