// A link as the host seam reads it: name, index, kind, flags, MTU, MAC and IPv4 addresses.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

/// <param name="IsUp">Administratively up (the UP flag); a TUN's operstate is UNKNOWN even when it works.</param>
/// <param name="Kind">The link's kind ("bridge", "tun", "veth", "vxlan"…); null for a device without one (lo, a physical NIC).</param>
public sealed record HostLink(string Name, bool IsUp, int Mtu, IReadOnlyList<HostAddress> Addresses, string? Kind = null)
{
    /// <summary>The kernel's ifindex (0 when unknown, as in fakes built by hand).</summary>
    public int Index { get; init; }

    /// <summary>The link-layer address, null for links without one (TUN, loopback's zeros count as one).</summary>
    public MacAddress? Mac { get; init; }
}
