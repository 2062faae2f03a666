// What a healthy node of its backend looks like in the kernel, read from the backend's own
// description: its device and encapsulation overhead, the network route (udp), and how a peer's
// subnet must be routed and which per-peer entries must exist (vxlan's neighbour and FDB entries).
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Health;

public sealed record NodeDatapath(BackendDescription Backend)
{
    public string BackendType => Backend.Type;
    /// <summary>The overlay device (flannel0, flannel.1), or -Device; null for backends without one (host-gw, alloc).</summary>
    public string? Device { get; init; } = Backend.Device;
    public int EncapOverhead => Backend.EncapOverhead;
    /// <summary>udp adds `Network dev flannel0`; vxlan and host-gw route each peer instead.</summary>
    public bool HasNetworkRoute => Backend.PeerRoutes == PeerRouteStyle.NetworkThroughDevice;
    /// <summary>False for alloc (no datapath).</summary>
    public bool RoutesPeers => Backend.PeerRoutes != PeerRouteStyle.None;

    /// <summary>The datapath <paramref name="config"/> describes; <paramref name="deviceOverride"/> replaces its device name.</summary>
    public static NodeDatapath For(NetworkConfig config, string? deviceOverride, BackendRegistry? backends = null)
    {
        var registry = backends ?? BackendRegistry.Default;
        BackendDescription d;
        try { d = registry.Describe(config); }
        catch (Errors.FlannelException) { d = new BackendDescription { Type = config.BackendType }; }
        return new NodeDatapath(d) { Device = deviceOverride ?? d.Device };
    }

    /// <summary>Null when <paramref name="route"/> is what this backend installs for <paramref name="peer"/>; else why not.</summary>
    public string? CheckPeerRoute(Lease peer, HostRoute? route)
    {
        if (route is null) return "no route";
        if (!route.IsUnicast) return $"routed by '{route}'";
        switch (Backend.PeerRoutes)
        {
            case PeerRouteStyle.NetworkThroughDevice when route.Device != Device:
                return $"routed by '{route}', expected dev {Device}";
            case PeerRouteStyle.ViaPeerSubnetOnDevice:
                if (route.Device == Device && route.Gateway == peer.Subnet.Address) return null;
                if (Backend.DirectRouting && route.Gateway == peer.Attrs.PublicIP) return null;
                return $"routed by '{route}', expected {peer.Subnet} via {peer.Subnet.Address} dev {Device} onlink";
            case PeerRouteStyle.ViaPublicIP when route.Gateway != peer.Attrs.PublicIP:
                return $"routed by '{route}', expected via {peer.Attrs.PublicIP}";
            default:
                return null;
        }
    }

    /// <summary>How a good route for <paramref name="peer"/> reads, for messages.</summary>
    public string DescribePeerRoute(Lease peer) => Backend.PeerRoutes switch
    {
        PeerRouteStyle.ViaPublicIP => $"via {peer.Attrs.PublicIP}",
        PeerRouteStyle.ViaPeerSubnetOnDevice => $"via {peer.Subnet.Address} dev {Device}",
        _ => $"dev {Device}",
    };

    /// <summary>The per-peer entries besides the route that must exist (vxlan: neighbour and FDB), none when the route is direct.</summary>
    public IReadOnlyList<HostEntry> PeerEntries(Lease peer, HostRoute? route)
    {
        if (Backend.PeerEntries is not { } entries) return [];
        if (Backend.DirectRouting && route?.Gateway == peer.Attrs.PublicIP) return [];
        try { return entries(peer, Device!); }
        catch (FormatException) { return []; }
    }

    /// <summary>The address of a peer that answers on the overlay: its device address, or its bridge for host-gw.</summary>
    public Ip4 PeerOverlayAddress(Lease peer) => Backend.PeerOverlayAddress(peer);
}
