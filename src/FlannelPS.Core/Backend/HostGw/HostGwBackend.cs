// flannel's host-gw backend: no encapsulation; each peer's subnet is routed via the peer's PublicIP
// on the underlay interface, so every host must share one L2 segment and no NAT may sit between
// them. MTU is the underlay's. The kernel forwards; FlannelPS only keeps the routes.
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.HostGw;

public sealed class HostGwBackend(IHostNetwork? host = null, TimeProvider? time = null) : IBackend
{
    public const string TypeName = "host-gw";

    /// <summary>flannel's refusal, word for word: host-gw needs the peers to reach this host at its own address.</summary>
    public const string NatRefusal = "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend";

    private readonly IHostNetwork _host = host ?? new RtnetlinkHostNetwork();
    private BackendContext? _context;

    public static BackendDescription Descriptor { get; } = new()
    {
        Type = TypeName,
        RequiresRoot = true,
        PeerRoutes = PeerRouteStyle.ViaPublicIP,
    };

    public static BackendKind Kind(IHostNetwork? host = null) =>
        new(TypeName, _ => Descriptor, () => new HostGwBackend(host), RemoveLeftovers);

    public BackendDescription Description => Descriptor;

    public Task<LeaseAttrs> PrepareAsync(BackendContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var iface = context.Interface;
        if (iface.ExtAddr != iface.IfaceAddr)
            throw new FlannelException("FlannelHostGwBehindNat", FlannelErrorCategory.InvalidOperation, NatRefusal,
                $"PublicIP {iface.ExtAddr}, interface {iface.Name} {iface.IfaceAddr}");
        _context = context;
        return Task.FromResult(new LeaseAttrs(iface.ExtAddr, TypeName));
    }

    public Task<IBackendNetwork> StartAsync(Lease lease, CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("StartAsync before PrepareAsync");
        context.Log.Info($"host-gw backend: routing peers via their PublicIP on {context.Interface.Name}, mtu {context.Interface.Mtu}");
        return Task.FromResult<IBackendNetwork>(new HostGwNetwork(_host, lease, context.Interface, context.Log, time));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// What host-gw leaves when its node stops: routes of <paramref name="config"/>'s subnets through a
    /// gateway outside the Network (a peer's PublicIP). A vxlan peer route is never one of them: its
    /// gateway is the peer's subnet address, inside the Network. A vxlan node with DirectRouting
    /// (<paramref name="starting"/>) programs host-gw's very shape for peers on its segment, so then
    /// nothing is removed: the routes of live peers are its own, and taking them away would cut those
    /// peers off until it has programmed them again (a host-gw route to a peer gone since stays).
    /// </summary>
    public static void RemoveLeftovers(IHostNetwork host, NetworkConfig config, BackendDescription starting, ILog log)
    {
        if (starting.DirectRouting) return;
        var changes = host.GetRoutes()
            .Where(r => r.IsUnicast && r.Gateway is { } gateway && !config.Network.Contains(gateway)
                && r.Destination.PrefixLength == config.SubnetLen && config.Network.Contains(r.Destination.Address))
            .Select(HostChange.Delete)
            .ToList();
        if (changes.Count == 0) return;
        log.Info($"Removing {changes.Count} host-gw route(s) left by an earlier node");
        host.Apply(changes);
    }

    private sealed class HostGwNetwork(IHostNetwork host, Lease lease, ExternalInterface iface, ILog log, TimeProvider? time)
        : KernelPeerNetwork(host, lease, iface.Mtu, TypeName, log, time)
    {
        protected override IReadOnlyList<HostEntry> EntriesFor(Lease peer) =>
            [new HostRoute(peer.Subnet, iface.Name, peer.Attrs.PublicIP)];

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
