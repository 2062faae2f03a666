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
    protected override void ProcessRecord()
    {
        // Built here, on the pipeline thread: it reads session state (paths) and the environment once.
        var options = BuildEtcdOptions();
        RunAsync(async ct =>
        {
            await using var registry = OpenRegistry(options);
            var manager = new SubnetManager(registry, Random.Shared, NullLog.Instance);
            var config = await manager.GetNetworkConfigAsync(ct).ConfigureAwait(false);
            Emit(new FlannelNetworkConfig(config, options.ConfigKey, options.EndpointList));
        });
    }
}
