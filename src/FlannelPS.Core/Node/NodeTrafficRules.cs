// The node's iptables rule sets, as flannel HEAD installs them: FLANNEL-FWD accepts for the network unless turned
// off (and only for backends that forward), FLANNEL-POSTRTG masquerading with -IpMasq; re-checked
// every IptablesResync. An old masquerade set from a previous subnet.env is removed.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Files;
using FlannelPS.Core.Iptables;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Node;

public sealed class NodeTrafficRules : ITrafficRules
{
    private readonly IptablesManager _manager;
    private readonly NetworkConfig _config;
    private readonly Lease _lease;
    private readonly bool _masq;
    private readonly bool _forward;
    private readonly SubnetEnvContents? _previous;

    private NodeTrafficRules(IptablesManager manager, NetworkConfig config, Lease lease, bool masq, bool forward, SubnetEnvContents? previous)
    {
        _manager = manager;
        _config = config;
        _lease = lease;
        _masq = masq;
        _forward = forward;
        _previous = previous;
    }

    /// <summary>Null when the node needs no rules (no -IpMasq, and no forward rules for this backend).</summary>
    public static ITrafficRules? Create(NetworkConfig config, BackendDescription backend, Lease lease, NodeOptions options, SubnetEnvContents? previous, ILog log)
    {
        var forward = options.IptablesForwardRules && backend.Forwards;
        if (!options.IpMasq && !forward) return null;
        var manager = new IptablesManager(log: log) { ResyncPeriod = options.IptablesResync };
        return new NodeTrafficRules(manager, config, lease, options.IpMasq, forward, previous);
    }

    public Task ApplyAsync(CancellationToken cancellationToken)
    {
        if (_masq) _manager.ApplyMasquerade(_config.Network, _lease.Subnet, _previous?.PreviousNetwork, _previous?.PreviousSubnet);
        if (_forward) _manager.ApplyForward(_config.Network);
        return Task.CompletedTask;
    }

    public Task RunResyncAsync(CancellationToken cancellationToken) => _manager.RunAsync(cancellationToken);
}
