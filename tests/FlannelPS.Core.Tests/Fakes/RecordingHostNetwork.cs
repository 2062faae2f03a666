// An in-memory host for unit tests of code that programs the kernel: links, routes, neighbours and
// FDB entries kept in lists with the kernel's key rules (EEXIST on a duplicate add, ENOENT/ESRCH on a
// missing delete, ENODEV for an unknown device), and every batch recorded in order.
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Fakes;

internal sealed class RecordingHostNetwork : IHostNetwork
{
    private const int ENOENT = 2, ESRCH = 3, EEXIST = 17, ENODEV = 19;

    public List<HostLink> Links { get; } = [];
    public List<HostRoute> Routes { get; } = [];
    public List<HostNeighbour> Neighbours { get; } = [];
    public List<HostFdbEntry> Fdb { get; } = [];
    public Dictionary<string, VxlanLinkSpec> Vxlans { get; } = new();

    /// <summary>Every batch passed to Apply, in order.</summary>
    public List<IReadOnlyList<HostChange>> Batches { get; } = [];

    /// <summary>Every call, as text ("AddVxlan flannel.1", "SetUp flannel.1"), in order.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>Makes the next changes matching the predicate fail with the errno.</summary>
    public Func<HostChange, int>? FailWith { get; set; }

    /// <summary>What LookupRoute answers; by default the longest-prefix match of Routes.</summary>
    public Func<Ip4, HostRoute?>? Lookup { get; set; }

    public IReadOnlyList<HostLink> GetLinks() => Links.ToList();
    public HostLink? GetLink(string name) => Links.FirstOrDefault(l => l.Name == name);
    public IReadOnlyList<HostRoute> GetRoutes() => Routes.ToList();

    public HostRoute? LookupRoute(Ip4 destination) =>
        Lookup is not null ? Lookup(destination)
        : Routes.Where(r => r.Destination.Contains(destination)).OrderByDescending(r => r.Destination.PrefixLength).FirstOrDefault();

    public IReadOnlyList<HostNeighbour> GetNeighbours(string device) => Neighbours.Where(n => n.Device == device).ToList();
    public IReadOnlyList<HostFdbEntry> GetFdbEntries(string device) => Fdb.Where(f => f.Device == device).ToList();
    public VxlanLinkSpec? GetVxlan(string name) => Vxlans.GetValueOrDefault(name);

    public void AddVxlan(VxlanLinkSpec spec)
    {
        Calls.Add($"AddVxlan {spec.Name}");
        if (GetLink(spec.Name) is not null) throw new HostNetworkException("RTM_NEWLINK", spec.Name, EEXIST, "EEXIST (File exists)");
        Vxlans[spec.Name] = spec;
        Links.Add(new HostLink(spec.Name, false, spec.Mtu, [], "vxlan") { Mac = spec.Mac, Index = Links.Count + 100 });
    }

    public void AddBridge(string name)
    {
        Calls.Add($"AddBridge {name}");
        if (GetLink(name) is not null) throw new HostNetworkException("RTM_NEWLINK", name, EEXIST, "EEXIST (File exists)");
        Links.Add(new HostLink(name, false, 1500, [], "bridge") { Index = Links.Count + 100 });
    }

    public bool DeleteLink(string name)
    {
        Calls.Add($"DeleteLink {name}");
        var i = Links.FindIndex(l => l.Name == name);
        if (i < 0) return false;
        Links.RemoveAt(i);
        Vxlans.Remove(name);
        // The kernel takes a link's routes, neighbours and FDB entries with it.
        Routes.RemoveAll(r => r.Device == name);
        Neighbours.RemoveAll(n => n.Device == name);
        Fdb.RemoveAll(f => f.Device == name);
        return true;
    }

    public void SetUp(string name) { Calls.Add($"SetUp {name}"); Update(name, l => l with { IsUp = true }); }

    public void SetMtu(string name, int mtu) { Calls.Add($"SetMtu {name} {mtu}"); Update(name, l => l with { Mtu = mtu }); }

    public bool AddAddress(string device, HostAddress address)
    {
        Calls.Add($"AddAddress {device} {address}");
        var link = Require(device);
        if (link.Addresses.Contains(address)) return false;
        Update(device, l => l with { Addresses = [.. l.Addresses, address] });
        return true;
    }

    public bool DeleteAddress(string device, HostAddress address)
    {
        Calls.Add($"DeleteAddress {device} {address}");
        var link = Require(device);
        if (!link.Addresses.Contains(address)) return false;
        Update(device, l => l with { Addresses = l.Addresses.Where(a => a != address).ToList() });
        return true;
    }

    public IReadOnlyList<HostChangeResult> Apply(IReadOnlyList<HostChange> changes)
    {
        Batches.Add(changes.ToList());
        var results = new List<HostChangeResult>(changes.Count);
        foreach (var c in changes)
        {
            var errno = FailWith?.Invoke(c) ?? 0;
            if (errno == 0) errno = ApplyOne(c);
            results.Add(new HostChangeResult(c, errno, errno == 0 ? null : $"errno {errno}"));
        }
        return results;
    }

    private int ApplyOne(HostChange c)
    {
        if (c.Entry.Device is { } dev && GetLink(dev) is null) return ENODEV;
        return c.Entry switch
        {
            HostRoute r => Mutate(Routes, r, x => x.Destination == r.Destination, c.Kind, ESRCH),
            HostNeighbour n => Mutate(Neighbours, n, x => x.Device == n.Device && x.Address == n.Address, c.Kind, ENOENT),
            HostFdbEntry f => Mutate(Fdb, f, x => x.Device == f.Device && x.Mac == f.Mac && (c.Kind != HostChangeKind.Delete || x.Destination == f.Destination), c.Kind, ENOENT),
            _ => throw new ArgumentException($"unknown entry {c.Entry}"),
        };
    }

    private static int Mutate<T>(List<T> list, T entry, Predicate<T> sameKey, HostChangeKind kind, int missing)
    {
        var i = list.FindIndex(sameKey);
        switch (kind)
        {
            case HostChangeKind.Add:
                if (i >= 0) return EEXIST;
                list.Add(entry);
                return 0;
            case HostChangeKind.Replace:
                if (i >= 0) list[i] = entry; else list.Add(entry);
                return 0;
            default:
                if (i < 0) return missing;
                list.RemoveAt(i);
                return 0;
        }
    }

    private HostLink Require(string name) =>
        GetLink(name) ?? throw new HostNetworkException("RTM_GETLINK", name, ENODEV, "ENODEV (No such device)");

    private void Update(string name, Func<HostLink, HostLink> change)
    {
        var i = Links.FindIndex(l => l.Name == name);
        if (i < 0) throw new HostNetworkException("RTM_SETLINK", name, ENODEV, "ENODEV (No such device)");
        Links[i] = change(Links[i]);
    }
}
