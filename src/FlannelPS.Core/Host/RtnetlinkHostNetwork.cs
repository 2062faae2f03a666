// IHostNetwork over rtnetlink. Every call opens its own NETLINK_ROUTE socket on the calling thread,
// so it acts on that thread's network namespace (a test thread that entered a namespace, or the
// host). Apply sends a whole batch as one message train and reads one ack per message, matched to
// its change by sequence number: hundreds of peers cost one sendmsg and one burst of acks.
using FlannelPS.Core.Interop;
using FlannelPS.Core.Interop.Netlink;
using FlannelPS.Core.Net;
using static FlannelPS.Core.Interop.Netlink.Rtnl;

namespace FlannelPS.Core.Host;

public sealed class RtnetlinkHostNetwork : IHostNetwork
{
    /// <summary>sendmsg calls that carried the last Apply's changes (after its one link dump that maps names to indexes).</summary>
    internal int LastApplySendCalls { get; private set; }

    /// <summary>Caps the messages per sendmsg below what the socket buffers allow (tests of the chunked path an unprivileged socket takes).</summary>
    internal int MaxMessagesPerSend { get; init; } = int.MaxValue;

    public IReadOnlyList<HostLink> GetLinks()
    {
        using var s = NetlinkSocket.OpenRoute();
        var links = DumpLinks(s);
        var addresses = DumpAddresses(s);
        return links.Select(l => ToHostLink(l, addresses)).ToList();
    }

    public HostLink? GetLink(string name)
    {
        using var s = NetlinkSocket.OpenRoute();
        var link = TryGetLink(s, name);
        return link is null ? null : ToHostLink(link, DumpAddresses(s));
    }

    public IReadOnlyList<HostRoute> GetRoutes()
    {
        using var s = NetlinkSocket.OpenRoute();
        var names = Names(DumpLinks(s));
        var routes = new List<HostRoute>();
        foreach (var m in Dump(s, RTM_GETROUTE, AF_INET, "routes"))
            if (RtnetlinkMessages.ParseRoute(m, names) is { Table: RT_TABLE_MAIN } r) routes.Add(r.Route with { Source = null }); // a table entry is its dst, gateway and device
        return routes;
    }

    public HostRoute? LookupRoute(Ip4 destination)
    {
        using var s = NetlinkSocket.OpenRoute();
        var w = new NetlinkWriter(256);
        RtnetlinkMessages.GetRoute(w, destination, s.NextSequence());
        List<NetlinkMessage> answer;
        try
        {
            answer = s.Request(w);
        }
        catch (NetlinkErrorException e) when (e.Errno is Errno.ENETUNREACH or Errno.EHOSTUNREACH)
        {
            return null;
        }
        catch (NetlinkErrorException e)
        {
            throw Failed(RTM_GETROUTE, destination.ToString(), e);
        }
        // Only the route's own device is named: one link by index, not a dump of all of them (a
        // DirectRouting node asks this once per peer).
        var names = new Dictionary<int, string>();
        foreach (var m in answer)
        {
            int oif = RtnetlinkMessages.RouteOutputIndex(m);
            if (oif > 0 && TryGetLink(s, oif) is { } link) names[oif] = link.Name;
            if (RtnetlinkMessages.ParseRoute(m, names) is { } route) return route.Route;
        }
        return null;
    }

    public IReadOnlyList<HostNeighbour> GetNeighbours(string device)
    {
        using var s = NetlinkSocket.OpenRoute();
        if (TryGetLink(s, device) is not { } link) return [];
        var names = new Dictionary<int, string> { [link.Index] = link.Name };
        var list = new List<HostNeighbour>();
        foreach (var m in Dump(s, RTM_GETNEIGH, AF_INET, "neighbours"))
            if (RtnetlinkMessages.ParseNeighbour(m, names) is { } n && n.Index == link.Index) list.Add(n.Neighbour);
        return list;
    }

    public IReadOnlyList<HostFdbEntry> GetFdbEntries(string device)
    {
        using var s = NetlinkSocket.OpenRoute();
        if (TryGetLink(s, device) is not { } link) return [];
        var names = new Dictionary<int, string> { [link.Index] = link.Name };
        var list = new List<HostFdbEntry>();
        var w = new NetlinkWriter(64);
        RtnetlinkMessages.DumpFdb(w, link.Index, s.NextSequence());
        List<NetlinkMessage> dump;
        try { dump = s.Request(w); }
        catch (NetlinkErrorException e) { throw Failed(RTM_GETNEIGH, $"dump of the fdb entries of {device}", e); }
        foreach (var m in dump)
            if (RtnetlinkMessages.ParseFdb(m, names) is { } f && f.Index == link.Index) list.Add(f.Entry);
        return list;
    }

    public VxlanLinkSpec? GetVxlan(string name)
    {
        using var s = NetlinkSocket.OpenRoute();
        return TryGetLink(s, name) is { } link ? RtnetlinkMessages.ParseVxlan(link) : null;
    }

    public void AddVxlan(VxlanLinkSpec spec)
    {
        ValidateName(spec.Name);
        if (spec.Vni is < 0 or > 0xFFFFFF) throw new ArgumentOutOfRangeException(nameof(spec), $"VNI {spec.Vni} is outside 0..16777215");
        if (spec.Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(spec), $"port {spec.Port} is outside 0..65535");
        using var s = NetlinkSocket.OpenRoute();
        // The underlay by name in messages, as `ip` would print it.
        var underlay = spec.UnderlayIndex <= 0 ? null
            : DumpLinks(s).FirstOrDefault(l => l.Index == spec.UnderlayIndex)?.Name ?? $"if{spec.UnderlayIndex}";
        var target = $"{spec.Name} type vxlan id {spec.Vni}" + (underlay is not null ? $" dev {underlay}" : "")
            + (spec.Local != Ip4.Any ? $" local {spec.Local}" : "") + (spec.Port > 0 ? $" dstport {spec.Port}" : "")
            + (spec.Learning ? " learning" : " nolearning") + (spec.Gbp ? " gbp" : "") + $" address {spec.Mac} mtu {spec.Mtu}";
        Change(s, RTM_NEWLINK, target, (w, seq) => RtnetlinkMessages.NewVxlan(w, spec, seq), tolerated: 0);
    }

    public void AddBridge(string name)
    {
        ValidateName(name);
        Change(RTM_NEWLINK, $"{name} type bridge", (w, seq) => RtnetlinkMessages.NewLink(w, name, "bridge", seq));
    }

    public bool DeleteLink(string name)
    {
        ValidateName(name);
        return Change(RTM_DELLINK, name, (w, seq) => RtnetlinkMessages.DelLink(w, name, seq), Errno.ENODEV);
    }

    public void SetUp(string name) =>
        Change(RTM_NEWLINK, $"{name} up", (w, seq) => RtnetlinkMessages.SetLink(w, name, up: true, mtu: 0, seq));

    public void SetMtu(string name, int mtu)
    {
        if (mtu < 68) throw new ArgumentOutOfRangeException(nameof(mtu), $"MTU {mtu} of {name} is below IPv4's minimum of 68");
        Change(RTM_NEWLINK, $"{name} mtu {mtu}", (w, seq) => RtnetlinkMessages.SetLink(w, name, up: false, mtu, seq));
    }

    public bool AddAddress(string device, HostAddress address) => ChangeAddress(RTM_NEWADDR, device, address, Errno.EEXIST);

    public bool DeleteAddress(string device, HostAddress address) => ChangeAddress(RTM_DELADDR, device, address, Errno.EADDRNOTAVAIL);

    public IReadOnlyList<HostChangeResult> Apply(IReadOnlyList<HostChange> changes)
    {
        LastApplySendCalls = 0;
        if (changes.Count == 0) return [];
        using var s = NetlinkSocket.OpenRoute();
        var indexes = DumpLinks(s).ToDictionary(l => l.Name, l => l.Index);
        var w = new NetlinkWriter(changes.Count * 64);
        var sent = new List<int>(changes.Count); // change index of each message written
        var results = new HostChangeResult?[changes.Count];
        for (int i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            var index = 0;
            if (c.Entry.Device is { } dev && !indexes.TryGetValue(dev, out index))
            {
                results[i] = new HostChangeResult(c, Errno.ENODEV, $"{Errno.NameAndText(Errno.ENODEV)}: no link named '{dev}'")
                {
                    Operation = RtnetlinkMessages.MessageName(RtnetlinkMessages.TypeOf(c)),
                };
                continue;
            }
            RtnetlinkMessages.Entry(w, c, index, s.NextSequence());
            sent.Add(i);
        }
        var sendsBefore = s.SendCalls;
        if (sent.Count > 0)
        {
            var acks = s.Exchange(w, MaxMessagesPerSend);
            for (int k = 0; k < sent.Count; k++)
            {
                var c = changes[sent[k]];
                results[sent[k]] = new HostChangeResult(c, acks[k].Errno, acks[k].Succeeded ? null : acks[k].Describe())
                {
                    Operation = RtnetlinkMessages.MessageName(RtnetlinkMessages.TypeOf(c)),
                };
            }
        }
        LastApplySendCalls = s.SendCalls - sendsBefore;
        return results.Select(r => r!).ToList();
    }

    // ---- helpers --------------------------------------------------------------------------

    private static HostLink ToHostLink(RtnetlinkMessages.LinkInfo l, List<(int Index, HostAddress Address)> addresses) =>
        new(l.Name, l.Up, l.Mtu, addresses.Where(a => a.Index == l.Index).Select(a => a.Address).ToList(), l.Kind)
        {
            Index = l.Index,
            Mac = l.Mac,
        };

    private static Dictionary<int, string> Names(List<RtnetlinkMessages.LinkInfo> links) => links.ToDictionary(l => l.Index, l => l.Name);

    private static List<RtnetlinkMessages.LinkInfo> DumpLinks(NetlinkSocket s) =>
        Dump(s, RTM_GETLINK, AF_UNSPEC, "links").Select(RtnetlinkMessages.ParseLink).OfType<RtnetlinkMessages.LinkInfo>().ToList();

    private static List<(int Index, HostAddress Address)> DumpAddresses(NetlinkSocket s) =>
        Dump(s, RTM_GETADDR, AF_INET, "addresses").Select(RtnetlinkMessages.ParseAddress).Where(a => a is not null).Select(a => a!.Value).ToList();

    private static List<NetlinkMessage> Dump(NetlinkSocket s, ushort type, byte family, string what)
    {
        var w = new NetlinkWriter(64);
        RtnetlinkMessages.Dump(w, type, family, s.NextSequence());
        try
        {
            return s.Request(w);
        }
        catch (NetlinkErrorException e)
        {
            throw Failed(type, $"dump of {what}", e);
        }
    }

    private static RtnetlinkMessages.LinkInfo? TryGetLink(NetlinkSocket s, string name) =>
        IsValidName(name) ? TryGetLink(s, name, (w, seq) => RtnetlinkMessages.GetLink(w, name, seq)) : null;

    private static RtnetlinkMessages.LinkInfo? TryGetLink(NetlinkSocket s, int index) =>
        TryGetLink(s, $"link index {index}", (w, seq) => RtnetlinkMessages.GetLink(w, index, seq));

    /// <summary>One RTM_GETLINK and its answer; null when the kernel has no such link (ENODEV).</summary>
    private static RtnetlinkMessages.LinkInfo? TryGetLink(NetlinkSocket s, string what, Action<NetlinkWriter, uint> write)
    {
        var w = new NetlinkWriter(64);
        write(w, s.NextSequence());
        try
        {
            return s.Request(w).Select(RtnetlinkMessages.ParseLink).FirstOrDefault(l => l is not null);
        }
        catch (NetlinkErrorException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
        catch (NetlinkErrorException e)
        {
            throw Failed(RTM_GETLINK, what, e);
        }
    }

    private bool ChangeAddress(ushort type, string device, HostAddress address, int tolerated)
    {
        using var s = NetlinkSocket.OpenRoute();
        var target = $"{address} dev {device}";
        var link = TryGetLink(s, device) ?? throw new HostNetworkException(RtnetlinkMessages.MessageName(type), target, Errno.ENODEV, Errno.NameAndText(Errno.ENODEV));
        return Change(s, type, target, (w, seq) => RtnetlinkMessages.Address(w, type, link.Index, address, seq), tolerated);
    }

    /// <summary>Sends one change and waits for its ack; false when it failed with <paramref name="tolerated"/>, which then means "already so".</summary>
    private static bool Change(ushort type, string target, Action<NetlinkWriter, uint> write, int tolerated = 0)
    {
        using var s = NetlinkSocket.OpenRoute();
        return Change(s, type, target, write, tolerated);
    }

    private static bool Change(NetlinkSocket s, ushort type, string target, Action<NetlinkWriter, uint> write, int tolerated)
    {
        var w = new NetlinkWriter(256);
        write(w, s.NextSequence());
        try
        {
            s.Request(w);
            return true;
        }
        catch (NetlinkErrorException e) when (tolerated != 0 && e.Errno == tolerated)
        {
            return false;
        }
        catch (NetlinkErrorException e)
        {
            throw Failed(type, target, e);
        }
    }

    private static HostNetworkException Failed(ushort type, string target, NetlinkErrorException e) =>
        new(RtnetlinkMessages.MessageName(type), target, e.Errno, e.Ack.Describe());

    private static bool IsValidName(string name) =>
        name.Length is > 0 and < 16 && !name.Any(c => c == '/' || c == ':' || char.IsWhiteSpace(c));

    private static void ValidateName(string name)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"'{name}' is not a valid interface name (1-15 characters, no '/', ':' or spaces)", nameof(name));
    }
}
