// What a node runs against. Production wires etcd, real interfaces and iptables; tests swap in
// an in-memory registry and fakes, with TimeProvider and Random they control.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Files;
using FlannelPS.Core.Host;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Node;

public sealed record NodeDependencies
{
    public required ISubnetRegistry Registry { get; init; }
    /// <summary>The node disposes Registry when it stops (set by FlannelNodeFactory, which creates it).</summary>
    public bool OwnsRegistry { get; init; }
    public required BackendRegistry Backends { get; init; }
    /// <summary>The node's interface choice (--iface, --iface-regex, --iface-can-reach, --public-ip) → the external interface.</summary>
    public required Func<NodeOptions, ExternalInterface> ResolveInterface { get; init; }
    /// <summary>Builds the node's iptables rule set; null installs none (tests, alloc without masq).</summary>
    public Func<NetworkConfig, BackendDescription, Lease, NodeOptions, SubnetEnvContents?, ILog, ITrafficRules?>? CreateTrafficRules { get; init; }
    /// <summary>The host seam, for removing what another backend left; null skips that (unit tests).</summary>
    public IHostNetwork? Host { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public Random Random { get; init; } = Random.Shared;
    public ILog Log { get; init; } = NullLog.Instance;
}

/// <summary>The node's iptables (or other traffic) rules: applied once, then kept in place.</summary>
public interface ITrafficRules
{
    Task ApplyAsync(CancellationToken cancellationToken);
    Task RunResyncAsync(CancellationToken cancellationToken);
}
