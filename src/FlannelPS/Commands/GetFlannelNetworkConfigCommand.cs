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
        // This invocation's registry, made here on the pipeline thread (it connects on first use).
        var (options, registry) = InvocationRegistry();
        RunAsync(async ct =>
        {
            var manager = new SubnetManager(registry, Random.Shared, NullLog.Instance);
            var config = await manager.GetNetworkConfigAsync(ct).ConfigureAwait(false);
            Emit(new FlannelNetworkConfig(config, options));
        });
    }
}
