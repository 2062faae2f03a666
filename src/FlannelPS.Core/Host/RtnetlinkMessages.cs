// How the host seam's objects are spelled as rtnetlink messages, and read back from the kernel's.
// Requests mirror what iproute2 sends for the equivalent `ip`/`bridge` command, so the kernel state
// is the one an administrator would get by hand. Pure: writes into a NetlinkWriter, reads from
// NetlinkMessages; the socket is RtnetlinkHostNetwork's business.
using FlannelPS.Core.Interop.Netlink;
using FlannelPS.Core.Net;
using static FlannelPS.Core.Interop.Netlink.Netlink;
using static FlannelPS.Core.Interop.Netlink.Rtnl;

namespace FlannelPS.Core.Host;

internal static class RtnetlinkMessages
{
    private const ushort Change = NLM_F_REQUEST | NLM_F_ACK;

    public static string MessageName(ushort type) => type switch
    {
        RTM_NEWLINK => "RTM_NEWLINK", RTM_DELLINK => "RTM_DELLINK", RTM_GETLINK => "RTM_GETLINK",
        RTM_NEWADDR => "RTM_NEWADDR", RTM_DELADDR => "RTM_DELADDR", RTM_GETADDR => "RTM_GETADDR",
        RTM_NEWROUTE => "RTM_NEWROUTE", RTM_DELROUTE => "RTM_DELROUTE", RTM_GETROUTE => "RTM_GETROUTE",
        RTM_NEWNEIGH => "RTM_NEWNEIGH", RTM_DELNEIGH => "RTM_DELNEIGH", RTM_GETNEIGH => "RTM_GETNEIGH",
        _ => $"netlink type {type}",
    };

    /// <summary>NLM_F_* for a change: Add creates exclusively, Replace creates or overwrites.</summary>
    public static ushort FlagsFor(HostChangeKind kind) => kind switch
    {
        HostChangeKind.Add => Change | NLM_F_CREATE | NLM_F_EXCL,
        HostChangeKind.Replace => Change | NLM_F_CREATE | NLM_F_REPLACE,
        _ => Change,
    };

    // ---- requests -------------------------------------------------------------------------

    /// <summary>A dump of every object of a type (RTM_GETLINK/ADDR/ROUTE/NEIGH) in a family.</summary>
    public static void Dump(NetlinkWriter w, ushort type, byte family, uint seq)
    {
        w.Begin(type, NLM_F_REQUEST | NLM_F_DUMP, seq);
        switch (type)
        {
            case RTM_GETLINK: w.IfInfo(family, 0); break;
            case RTM_GETADDR: w.IfAddr(family, 0, 0, 0); break;
            case RTM_GETROUTE: w.Rt(family, 0, 0, 0, 0, 0, 0); break;
            default: w.Nd(family, 0, 0, 0); break;
        }
        w.End();
    }

    /// <summary>RTM_GETLINK for one link by name (`ip link show dev NAME`).</summary>
    public static void GetLink(NetlinkWriter w, string name, uint seq)
    {
        w.Begin(RTM_GETLINK, Change, seq);
        w.IfInfo(AF_UNSPEC, 0);
        w.String(IFLA_IFNAME, name);
        w.End();
    }

    /// <summary>RTM_GETLINK for one link by index (`ip link show dev` of an index a route or neighbour names).</summary>
    public static void GetLink(NetlinkWriter w, int index, uint seq)
    {
        w.Begin(RTM_GETLINK, Change, seq);
        w.IfInfo(AF_UNSPEC, index);
        w.End();
    }

    /// <summary>RTM_GETROUTE for one destination (`ip route get DST`).</summary>
    public static void GetRoute(NetlinkWriter w, Ip4 destination, uint seq)
    {
        w.Begin(RTM_GETROUTE, Change, seq);
        w.Rt(AF_INET, 32, 0, 0, 0, 0, 0);
        w.Ip4(RTA_DST, destination);
        w.End();
    }

    /// <summary>`ip link add NAME address MAC mtu MTU type vxlan id VNI [dev IDX] [local IP] [dstport PORT] [no]learning [gbp]`.</summary>
    public static void NewVxlan(NetlinkWriter w, VxlanLinkSpec spec, uint seq)
    {
        w.Begin(RTM_NEWLINK, Change | NLM_F_CREATE | NLM_F_EXCL, seq);
        w.IfInfo(AF_UNSPEC, 0);
        w.String(IFLA_IFNAME, spec.Name);
        w.Mac(IFLA_ADDRESS, spec.Mac);
        if (spec.Mtu > 0) w.U32(IFLA_MTU, (uint)spec.Mtu);
        var info = w.BeginNested(IFLA_LINKINFO);
        w.String(IFLA_INFO_KIND, "vxlan");
        var data = w.BeginNested(IFLA_INFO_DATA);
        w.U32(IFLA_VXLAN_ID, (uint)spec.Vni);
        if (spec.UnderlayIndex > 0) w.U32(IFLA_VXLAN_LINK, (uint)spec.UnderlayIndex);
        if (spec.Local != Ip4.Any) w.Ip4(IFLA_VXLAN_LOCAL, spec.Local);
        if (spec.Port > 0) w.Be16(IFLA_VXLAN_PORT, (ushort)spec.Port);
        w.U8(IFLA_VXLAN_LEARNING, spec.Learning ? (byte)1 : (byte)0);
        if (spec.Gbp) w.Flag(IFLA_VXLAN_GBP);
        w.EndNested(data);
        w.EndNested(info);
        w.End();
    }

    /// <summary>`ip link add NAME type KIND`.</summary>
    public static void NewLink(NetlinkWriter w, string name, string kind, uint seq)
    {
        w.Begin(RTM_NEWLINK, Change | NLM_F_CREATE | NLM_F_EXCL, seq);
        w.IfInfo(AF_UNSPEC, 0);
        w.String(IFLA_IFNAME, name);
        var info = w.BeginNested(IFLA_LINKINFO);
        w.String(IFLA_INFO_KIND, kind);
        w.EndNested(info);
        w.End();
    }

    public static void DelLink(NetlinkWriter w, string name, uint seq)
    {
        w.Begin(RTM_DELLINK, Change, seq);
        w.IfInfo(AF_UNSPEC, 0);
        w.String(IFLA_IFNAME, name);
        w.End();
    }

    /// <summary>`ip link set dev NAME [up] [mtu MTU]`: an RTM_NEWLINK without NLM_F_CREATE changes an existing link.</summary>
    public static void SetLink(NetlinkWriter w, string name, bool up, int mtu, uint seq)
    {
        w.Begin(RTM_NEWLINK, Change, seq);
        w.IfInfo(AF_UNSPEC, 0, up ? IFF_UP : 0, up ? IFF_UP : 0);
        w.String(IFLA_IFNAME, name);
        if (mtu > 0) w.U32(IFLA_MTU, (uint)mtu);
        w.End();
    }

    /// <summary>
    /// A dump of the FDB entries of one device (`bridge fdb show dev IDX`). Like iproute2 it sends an
    /// ifinfomsg header, whose index the kernel takes as the device filter.
    /// </summary>
    public static void DumpFdb(NetlinkWriter w, int index, uint seq)
    {
        w.Begin(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, seq);
        w.IfInfo(AF_BRIDGE, index);
        w.End();
    }

    /// <summary>`ip addr add|del A/N dev IDX` (scope global, no broadcast, as `ip` does without `brd`).</summary>
    public static void Address(NetlinkWriter w, ushort type, int index, HostAddress address, uint seq)
    {
        w.Begin(type, type == RTM_NEWADDR ? (ushort)(Change | NLM_F_CREATE | NLM_F_EXCL) : Change, seq);
        w.IfAddr(AF_INET, (byte)address.PrefixLength, RT_SCOPE_UNIVERSE, index);
        w.Ip4(IFA_LOCAL, address.Address);
        w.Ip4(IFA_ADDRESS, address.Address);
        w.End();
    }

    /// <summary>
    /// A route change in the main table. New routes are protocol boot with scope link when they have
    /// no gateway, universe when they do (what `ip route add` picks); deletes leave protocol, scope and a
    /// unicast type open so they match whatever the kernel holds for the destination, dev and gateway.
    /// </summary>
    public static void Route(NetlinkWriter w, HostChangeKind kind, HostRoute route, int oif, uint seq)
    {
        var delete = kind == HostChangeKind.Delete;
        var type = RouteType(route.Type);
        byte scope = delete ? RT_SCOPE_NOWHERE
            : route.Gateway is null && route.IsUnicast ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        w.Begin(delete ? RTM_DELROUTE : RTM_NEWROUTE, FlagsFor(kind), seq);
        w.Rt(AF_INET, (byte)route.Destination.PrefixLength, RT_TABLE_MAIN, delete ? (byte)0 : RTPROT_BOOT, scope,
            delete && route.IsUnicast ? (byte)0 : type, route.OnLink ? RTNH_F_ONLINK : 0);
        w.U32(RTA_TABLE, RT_TABLE_MAIN);
        if (route.Destination.PrefixLength > 0) w.Ip4(RTA_DST, route.Destination.Address);
        if (route.Gateway is { } gw) w.Ip4(RTA_GATEWAY, gw);
        if (oif > 0) w.U32(RTA_OIF, (uint)oif);
        w.End();
    }

    /// <summary>`ip neigh add|replace|del IP lladdr MAC dev IDX nud permanent`.</summary>
    public static void Neighbour(NetlinkWriter w, HostChangeKind kind, HostNeighbour n, int index, uint seq)
    {
        var delete = kind == HostChangeKind.Delete;
        w.Begin(delete ? RTM_DELNEIGH : RTM_NEWNEIGH, FlagsFor(kind), seq);
        w.Nd(AF_INET, index, NUD_PERMANENT, 0);
        w.Ip4(NDA_DST, n.Address);
        w.Mac(NDA_LLADDR, n.Mac);
        w.End();
    }

    /// <summary>`bridge fdb add|replace|del MAC dev IDX dst IP self permanent`.</summary>
    public static void Fdb(NetlinkWriter w, HostChangeKind kind, HostFdbEntry f, int index, uint seq)
    {
        var delete = kind == HostChangeKind.Delete;
        w.Begin(delete ? RTM_DELNEIGH : RTM_NEWNEIGH, FlagsFor(kind), seq);
        w.Nd(AF_BRIDGE, index, NUD_PERMANENT, NTF_SELF);
        w.Mac(NDA_LLADDR, f.Mac);
        w.Ip4(NDA_DST, f.Destination);
        w.End();
    }

    /// <summary>The message for one batch change on a link of index <paramref name="index"/>.</summary>
    public static void Entry(NetlinkWriter w, HostChange change, int index, uint seq)
    {
        switch (change.Entry)
        {
            case HostRoute r: Route(w, change.Kind, r, index, seq); break;
            case HostNeighbour n: Neighbour(w, change.Kind, n, index, seq); break;
            case HostFdbEntry f: Fdb(w, change.Kind, f, index, seq); break;
            default: throw new ArgumentException($"no rtnetlink message for {change.Entry.GetType().Name}", nameof(change));
        }
    }

    /// <summary>The message type a change is sent as, for error texts.</summary>
    public static ushort TypeOf(HostChange change) => (change.Entry, change.Kind == HostChangeKind.Delete) switch
    {
        (HostRoute, false) => RTM_NEWROUTE,
        (HostRoute, true) => RTM_DELROUTE,
        (_, false) => RTM_NEWNEIGH,
        _ => RTM_DELNEIGH,
    };

    // ---- answers --------------------------------------------------------------------------

    /// <summary>An RTM_NEWLINK as the kernel sends it: index, name, flags, MTU, MAC, kind, and its attributes for vxlan data.</summary>
    public sealed record LinkInfo(int Index, string Name, bool Up, int Mtu, MacAddress? Mac, string? Kind, NetlinkAttributes? KindData);

    public static LinkInfo? ParseLink(NetlinkMessage m)
    {
        if (m.Type != RTM_NEWLINK || m.Payload.Length < IfInfoMsgSize) return null;
        var a = m.Attributes(IfInfoMsgSize);
        if (a.String(IFLA_IFNAME) is not { Length: > 0 } name) return null;
        var info = a.Nested(IFLA_LINKINFO);
        return new LinkInfo(m.S32(4), name, (m.U32(8) & IFF_UP) != 0, (int)(a.U32(IFLA_MTU) ?? 0), a.Mac(IFLA_ADDRESS),
            info?.String(IFLA_INFO_KIND), info?.Nested(IFLA_INFO_DATA));
    }

    /// <summary>A vxlan link's settings; null for another kind.</summary>
    public static VxlanLinkSpec? ParseVxlan(LinkInfo link)
    {
        if (link.Kind != "vxlan" || link.KindData is not { } d) return null;
        return new VxlanLinkSpec(link.Name, (int)(d.U32(IFLA_VXLAN_ID) ?? 0), (int)(d.U32(IFLA_VXLAN_LINK) ?? 0),
            d.Ip4(IFLA_VXLAN_LOCAL) ?? Ip4.Any, d.Be16(IFLA_VXLAN_PORT) ?? 0, (d.U8(IFLA_VXLAN_LEARNING) ?? 0) != 0,
            d.Has(IFLA_VXLAN_GBP), link.Mtu, link.Mac ?? new MacAddress(0));
    }

    /// <summary>An IPv4 RTM_NEWADDR: the link's index and the address with its prefix length.</summary>
    public static (int Index, HostAddress Address)? ParseAddress(NetlinkMessage m)
    {
        if (m.Type != RTM_NEWADDR || m.Payload.Length < IfAddrMsgSize || m.U8(0) != AF_INET) return null;
        var a = m.Attributes(IfAddrMsgSize);
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point links.
        if ((a.Ip4(IFA_LOCAL) ?? a.Ip4(IFA_ADDRESS)) is not { } ip) return null;
        return ((int)m.U32(4), new HostAddress(ip, m.U8(1)));
    }

    /// <summary>An IPv4 RTM_NEWROUTE with its table; the output device named through <paramref name="names"/>.</summary>
    public static (uint Table, HostRoute Route)? ParseRoute(NetlinkMessage m, IReadOnlyDictionary<int, string> names)
    {
        if (m.Type != RTM_NEWROUTE || m.Payload.Length < RtMsgSize || m.U8(0) != AF_INET) return null;
        var a = m.Attributes(RtMsgSize);
        var dstLen = m.U8(1);
        var dst = new Ip4Net(a.Ip4(RTA_DST) ?? Ip4.Any, dstLen);
        var table = a.U32(RTA_TABLE) ?? m.U8(4);
        var oif = (int)(a.U32(RTA_OIF) ?? 0);
        string? dev = oif > 0 ? names.GetValueOrDefault(oif, $"if{oif}") : null;
        var route = new HostRoute(dst, dev, a.Ip4(RTA_GATEWAY), RouteTypeName(m.U8(7)))
        {
            OnLink = (m.U32(8) & RTNH_F_ONLINK) != 0,
            Source = a.Ip4(RTA_PREFSRC),
        };
        return (table, route);
    }

    /// <summary>The index of an IPv4 route's output device (RTA_OIF); 0 when it has none (blackhole, unreachable).</summary>
    public static int RouteOutputIndex(NetlinkMessage m) =>
        m.Type != RTM_NEWROUTE || m.Payload.Length < RtMsgSize || m.U8(0) != AF_INET ? 0 : (int)(m.Attributes(RtMsgSize).U32(RTA_OIF) ?? 0);

    /// <summary>An IPv4 neighbour with a link-layer address (incomplete entries have none and are skipped).</summary>
    public static (int Index, HostNeighbour Neighbour)? ParseNeighbour(NetlinkMessage m, IReadOnlyDictionary<int, string> names)
    {
        if (m.Type != RTM_NEWNEIGH || m.Payload.Length < NdMsgSize || m.U8(0) != AF_INET) return null;
        var a = m.Attributes(NdMsgSize);
        if (a.Ip4(NDA_DST) is not { } ip || a.Mac(NDA_LLADDR) is not { } mac) return null;
        var index = m.S32(4);
        return (index, new HostNeighbour(names.GetValueOrDefault(index, $"if{index}"), ip, mac) { Permanent = (m.U16(8) & NUD_PERMANENT) != 0 });
    }

    /// <summary>An AF_BRIDGE FDB entry with an IPv4 remote (NDA_DST), as a vxlan device reports them.</summary>
    public static (int Index, HostFdbEntry Entry)? ParseFdb(NetlinkMessage m, IReadOnlyDictionary<int, string> names)
    {
        if (m.Type != RTM_NEWNEIGH || m.Payload.Length < NdMsgSize || m.U8(0) != AF_BRIDGE) return null;
        var a = m.Attributes(NdMsgSize);
        if (a.Mac(NDA_LLADDR) is not { } mac || a.Ip4(NDA_DST) is not { } dst) return null;
        var index = m.S32(4);
        return (index, new HostFdbEntry(names.GetValueOrDefault(index, $"if{index}"), mac, dst));
    }
}
