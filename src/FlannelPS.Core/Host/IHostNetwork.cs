// The one seam through which Core reads and changes the host's network: links (TUN, bridge, vxlan),
// addresses, routes, neighbours and FDB entries. Production talks rtnetlink; tests use a recording
// fake. Calls act on the calling thread's network namespace (a netlink socket is bound to the
// namespace of the thread that opened it). Failures throw HostNetworkException, which names the
// errno and the object.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public interface IHostNetwork
{
    IReadOnlyList<HostLink> GetLinks();

    /// <summary>The link with this name, or null when there is none.</summary>
    HostLink? GetLink(string name);

    /// <summary>IPv4 routes of the main table.</summary>
    IReadOnlyList<HostRoute> GetRoutes();

    /// <summary>The route the kernel would use for <paramref name="destination"/> (like `ip route get`), null when unreachable.</summary>
    HostRoute? LookupRoute(Ip4 destination);

    /// <summary>IPv4 neighbour entries of <paramref name="device"/>.</summary>
    IReadOnlyList<HostNeighbour> GetNeighbours(string device);

    /// <summary>FDB entries of <paramref name="device"/> that carry an IPv4 destination.</summary>
    IReadOnlyList<HostFdbEntry> GetFdbEntries(string device);

    /// <summary>The vxlan device <paramref name="name"/>'s settings, null when absent or not a vxlan device.</summary>
    VxlanLinkSpec? GetVxlan(string name);

    /// <summary>Creates a vxlan device with the spec's VNI, underlay, local address, port, learning, GBP, MTU and MAC (down).</summary>
    void AddVxlan(VxlanLinkSpec spec);

    /// <summary>Creates a bridge (down).</summary>
    void AddBridge(string name);

    /// <summary>Deletes a link; false when it did not exist.</summary>
    bool DeleteLink(string name);

    void SetUp(string name);

    void SetMtu(string name, int mtu);

    /// <summary>Adds an address; false when the link already has it.</summary>
    bool AddAddress(string device, HostAddress address);

    /// <summary>Removes an address; false when the link did not have it.</summary>
    bool DeleteAddress(string device, HostAddress address);

    /// <summary>
    /// Applies every change in order, in one round trip, and reports each one's outcome; a failed change
    /// does not stop the ones after it. Devices are named; an unknown device fails its changes with ENODEV.
    /// </summary>
    IReadOnlyList<HostChangeResult> Apply(IReadOnlyList<HostChange> changes);
}
