// What a healthy node of each backend looks like in the kernel (spec §4.1, §5): its device and
// encapsulation overhead, and how a peer's subnet must be routed. Pure, so it is tested directly.
using System.Text.Json;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Health;

public sealed record NodeDatapath
{
    public required string BackendType { get; init; }
    /// <summary>The overlay device (flannel0, flannel.1); null for backends without one (host-gw, alloc).</summary>
    public string? Device { get; init; }
    /// <summary>Bytes of encapsulation: device MTU = underlay MTU − this.</summary>
    public int EncapOverhead { get; init; }
    /// <summary>udp adds `Network dev flannel0`; vxlan (HEAD) routes each peer instead.</summary>
    public bool HasNetworkRoute { get; init; }
    /// <summary>False for alloc (no datapath) and backends FlannelPS does not know how to check.</summary>
    public bool RoutesPeers { get; init; }

    public static NodeDatapath For(string backendType, string? backendJson, string? deviceOverride) => backendType switch
    {
        "udp" => new() { BackendType = "udp", Device = deviceOverride ?? "flannel0", EncapOverhead = 28, HasNetworkRoute = true, RoutesPeers = true },
        "vxlan" => new() { BackendType = "vxlan", Device = deviceOverride ?? $"flannel.{Vni(backendJson)}", EncapOverhead = 50, RoutesPeers = true },
        "host-gw" => new() { BackendType = "host-gw", Device = deviceOverride, RoutesPeers = true },
        _ => new() { BackendType = backendType, Device = deviceOverride },
    };

    /// <summary>Null when <paramref name="route"/> is what this backend installs for <paramref name="peer"/>; else why not.</summary>
    public string? CheckPeerRoute(Lease peer, HostRoute? route)
    {
        if (route is null) return "no route";
        if (!route.IsUnicast) return $"routed by '{route}'";
        return BackendType switch
        {
            "udp" when route.Device != Device => $"routed by '{route}', expected dev {Device}",
            "vxlan" when route.Device != Device || route.Gateway != peer.Subnet.Address =>
                $"routed by '{route}', expected {peer.Subnet} via {peer.Subnet.Address} dev {Device} onlink",
            "host-gw" when route.Gateway != peer.Attrs.PublicIP => $"routed by '{route}', expected via {peer.Attrs.PublicIP}",
            _ => null,
        };
    }

    /// <summary>The address of a peer that answers on the overlay: its device address, or its bridge for host-gw.</summary>
    public Ip4 PeerOverlayAddress(Lease peer) => BackendType == "host-gw" ? peer.Subnet.Address.Add(1) : peer.Subnet.Address;

    private static int Vni(string? backendJson)
    {
        if (backendJson is null) return 1;
        try
        {
            using var doc = JsonDocument.Parse(backendJson);
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Name.Equals("VNI", StringComparison.OrdinalIgnoreCase) && p.Value.TryGetInt32(out var v) && v > 0) return v;
        }
        catch (JsonException) { }
        return 1;
    }
}
