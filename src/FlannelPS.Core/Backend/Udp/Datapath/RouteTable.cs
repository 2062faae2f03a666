// Lease subnet → peer endpoint. Writers (lease events) build a new immutable snapshot under a lock
// and publish it with one reference store; the packet threads read the current snapshot without
// locking. A snapshot indexes routes per prefix length in hash tables, so a lookup costs one probe
// per distinct prefix length (normally one: every lease has SubnetLen), whatever the peer count.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Backend.Udp.Datapath;

public sealed class RouteTable
{
    private readonly object _writeLock = new();
    private volatile Snapshot _current = Snapshot.Empty;

    public int Count => _current.All.Length;

    public IReadOnlyList<PeerRoute> Routes => _current.All;

    /// <summary>
    /// Adds or replaces the route for <paramref name="subnet"/>. Any other route overlapping it is
    /// removed, so entries never overlap and lookup order cannot matter. Returns the removed overlaps.
    /// </summary>
    public IReadOnlyList<PeerRoute> Set(Ip4Net subnet, Ip4 publicIP, ushort port)
    {
        lock (_writeLock)
        {
            var old = _current;
            PeerCounters? counters = null;
            var kept = new List<PeerRoute>(old.All.Length + 1);
            var displaced = new List<PeerRoute>();
            foreach (var r in old.All)
            {
                if (r.Subnet == subnet) counters = r.Counters;
                else if (r.Subnet.Overlaps(subnet)) displaced.Add(r);
                else kept.Add(r);
            }
            kept.Add(new PeerRoute(subnet, publicIP, port, counters ?? new PeerCounters()));
            _current = new Snapshot([.. kept]);
            return displaced;
        }
    }

    public bool Remove(Ip4Net subnet)
    {
        lock (_writeLock)
        {
            var old = _current;
            var kept = new List<PeerRoute>(old.All.Length);
            foreach (var r in old.All) if (r.Subnet != subnet) kept.Add(r);
            if (kept.Count == old.All.Length) return false;
            _current = new Snapshot([.. kept]);
            return true;
        }
    }

    public void Clear()
    {
        lock (_writeLock) _current = Snapshot.Empty;
    }

    /// <summary>The route whose subnet contains <paramref name="address"/> (host order), or null.</summary>
    public PeerRoute? Lookup(uint address)
    {
        var s = _current;
        var lengths = s.PrefixLengths;
        for (int i = 0; i < lengths.Length; i++)
        {
            if (s.ByLength[i].TryGetValue(address & Ip4Net.MaskOf(lengths[i]), out var route)) return route;
        }
        return null;
    }

    public PeerRoute? Lookup(Ip4 address) => Lookup(address.Value);

    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new([]);

        public Snapshot(PeerRoute[] all)
        {
            All = all;
            var groups = new SortedDictionary<int, Dictionary<uint, PeerRoute>>(Comparer<int>.Create((a, b) => b.CompareTo(a)));
            foreach (var r in all)
            {
                if (!groups.TryGetValue(r.Subnet.PrefixLength, out var d)) groups[r.Subnet.PrefixLength] = d = [];
                d[r.Subnet.Address.Value] = r;
            }
            PrefixLengths = [.. groups.Keys];
            ByLength = [.. groups.Values];
        }

        public PeerRoute[] All { get; }
        public int[] PrefixLengths { get; }
        public Dictionary<uint, PeerRoute>[] ByLength { get; }
    }
}
