// What a backend is, read by everything that must not guess: the node (root, TUN), the traffic
// rules (does it forward), Test-FlannelNode (its device, MTU overhead, and the kernel state it
// keeps per peer) and the docs (the UDP port to open).
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend;

/// <summary>How a backend routes a peer's subnet.</summary>
public enum PeerRouteStyle
{
    /// <summary>No routes (alloc).</summary>
    None,
    /// <summary>One route for the whole Network through the backend's device (udp's `Network dev flannel0`).</summary>
    NetworkThroughDevice,
    /// <summary>Per peer `subnet via subnet-address dev DEVICE onlink`, with a neighbour and an FDB entry (vxlan).</summary>
    ViaPeerSubnetOnDevice,
    /// <summary>Per peer `subnet via PublicIP` on the underlay (host-gw, and vxlan's DirectRouting for peers on the same segment).</summary>
    ViaPublicIP,
}

public sealed record BackendDescription
{
    /// <summary>Lower-case type name as in the config ("udp", "vxlan", "host-gw", "alloc").</summary>
    public required string Type { get; init; }

    /// <summary>Needs root: it changes links, routes or neighbours.</summary>
    public bool RequiresRoot { get; init; }

    /// <summary>Needs /dev/net/tun.</summary>
    public bool NeedsTun { get; init; }

    /// <summary>The overlay device (flannel0, flannel.1); null for backends without one.</summary>
    public string? Device { get; init; }

    /// <summary>Bytes each packet gains on the underlay: device MTU = underlay MTU − this (vxlan's MTU key stands for the underlay's).</summary>
    public int EncapOverhead { get; init; }

    /// <summary>Carries traffic (so FLANNEL-FWD accept rules are wanted); false for alloc.</summary>
    public bool Forwards { get; init; } = true;

    public PeerRouteStyle PeerRoutes { get; init; }

    /// <summary>vxlan's DirectRouting: a peer on the same L2 segment is routed via its PublicIP instead.</summary>
    public bool DirectRouting { get; init; }

    /// <summary>The UDP port the underlay must let through (8285 for udp, 8472 for vxlan), null when none.</summary>
    public int? UdpPort { get; init; }

    /// <summary>The Backend keys this backend reads, besides Type.</summary>
    public IReadOnlyList<string> ConfigKeys { get; init; } = [];

    /// <summary>Per-peer kernel entries besides the route (vxlan: neighbour and FDB), given the peer and the device; null for none.</summary>
    public Func<Lease, string, IReadOnlyList<HostEntry>>? PeerEntries { get; init; }

    /// <summary>What this backend needs of the host before it starts: root, and /dev/net/tun when it uses TUN.</summary>
    public void EnsureHostPrerequisites(uint euid, string tunDevicePath = HostPrerequisites.TunDevicePath)
    {
        if (NeedsTun) HostPrerequisites.EnsureRootAndTun(Type, euid, tunDevicePath);
        else if (RequiresRoot) HostPrerequisites.EnsureRoot(Type, euid);
    }

    /// <summary>The address of a peer that answers on the overlay: its device address, or its Docker bridge (.1) without a device.</summary>
    public Ip4 PeerOverlayAddress(Lease peer) => Device is null ? peer.Subnet.Address.Add(1) : peer.Subnet.Address;
}
