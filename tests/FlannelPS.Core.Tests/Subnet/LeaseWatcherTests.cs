using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Tests.Fakes;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Tests.Subnet;

public sealed class LeaseWatcherTests
{
    private static readonly Ip4Net Own = Ip4Net.Parse("10.0.72.0/24");

    private static Lease L(string cidr, string ip, long rev = 1, long leaseId = 7) => new()
    {
        Subnet = Ip4Net.Parse(cidr), Attrs = new LeaseAttrs(Ip4.Parse(ip)), Revision = rev, EtcdLeaseId = leaseId,
    };

    [Fact]
    public void Reset_reports_every_peer_and_filters_the_own_subnet()
    {
        var w = new LeaseWatcher(Own);
        var events = w.Reset([L("10.0.1.0/24", "192.0.2.1"), L("10.0.72.0/24", "192.0.2.72"), L("10.0.2.0/24", "192.0.2.2")]);
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(LeaseEventType.Added, e.Type));
        Assert.DoesNotContain(events, e => e.Lease.Subnet == Own);
        Assert.Equal(2, w.Known.Count);
    }

    [Fact]
    public void Reset_diffs_against_the_cache()
    {
        var w = new LeaseWatcher(Own);
        w.Reset([L("10.0.1.0/24", "192.0.2.1"), L("10.0.2.0/24", "192.0.2.2"), L("10.0.3.0/24", "192.0.2.3")]);
        var events = w.Reset([
            L("10.0.1.0/24", "192.0.2.1"),            // unchanged: nothing
            L("10.0.2.0/24", "192.0.2.22", rev: 9),   // rewritten: Added with the new attrs
            L("10.0.4.0/24", "192.0.2.4"),            // new: Added
        ]);                                           // 10.0.3.0 vanished: Removed with the cached lease
        Assert.Equal(3, events.Count);
        Assert.Contains(events, e => e.Type == LeaseEventType.Added && e.Lease.Attrs.PublicIP == Ip4.Parse("192.0.2.22"));
        Assert.Contains(events, e => e.Type == LeaseEventType.Added && e.Lease.Subnet == Ip4Net.Parse("10.0.4.0/24"));
        var removed = Assert.Single(events, e => e.Type == LeaseEventType.Removed);
        Assert.Equal(Ip4.Parse("192.0.2.3"), removed.Lease.Attrs.PublicIP);
        Assert.Equal(3, w.Known.Count);
    }

    [Fact]
    public void A_delete_carries_the_cached_lease()
    {
        var w = new LeaseWatcher(Own);
        w.Apply(new LeaseChange(LeaseChangeKind.Put, Ip4Net.Parse("10.0.9.0/24"), L("10.0.9.0/24", "192.0.2.9", rev: 5), 5));
        var events = w.Apply(new LeaseChange(LeaseChangeKind.Delete, Ip4Net.Parse("10.0.9.0/24"), null, 6));
        var e = Assert.Single(events);
        Assert.Equal(LeaseEventType.Removed, e.Type);
        Assert.Equal(Ip4.Parse("192.0.2.9"), e.Lease.Attrs.PublicIP);
        Assert.Empty(w.Known);
    }

    [Fact]
    public void Own_subnet_and_unknown_deletes_produce_nothing()
    {
        var w = new LeaseWatcher(Own);
        Assert.Empty(w.Apply(new LeaseChange(LeaseChangeKind.Put, Own, L("10.0.72.0/24", "192.0.2.72"), 3)));
        Assert.Empty(w.Apply(new LeaseChange(LeaseChangeKind.Delete, Own, null, 4)));
        Assert.Empty(w.Apply(new LeaseChange(LeaseChangeKind.Delete, Ip4Net.Parse("10.0.5.0/24"), null, 5)));
        Assert.Empty(w.Known);
    }

    [Fact]
    public void A_put_older_than_the_cache_is_ignored()
    {
        var w = new LeaseWatcher(Own);
        w.Reset([L("10.0.1.0/24", "192.0.2.1", rev: 10)]);
        Assert.Empty(w.Apply(new LeaseChange(LeaseChangeKind.Put, Ip4Net.Parse("10.0.1.0/24"), L("10.0.1.0/24", "192.0.2.99", rev: 8), 8)));
        Assert.Equal(Ip4.Parse("192.0.2.1"), Assert.Single(w.Known).Attrs.PublicIP);
        var added = Assert.Single(w.Apply(new LeaseChange(LeaseChangeKind.Put, Ip4Net.Parse("10.0.1.0/24"), L("10.0.1.0/24", "192.0.2.11", rev: 11), 11)));
        Assert.Equal(Ip4.Parse("192.0.2.11"), added.Lease.Attrs.PublicIP);
    }

    private static LeaseChange Put(Lease l) => new(LeaseChangeKind.Put, l.Subnet, l, l.Revision);
    private static LeaseChange Del(string cidr, long rev) => new(LeaseChangeKind.Delete, Ip4Net.Parse(cidr), null, rev);

    // What UdpNetwork does with the events: the udp route table is the backend view under test.
    private static void Feed(RouteTable routes, IEnumerable<LeaseEvent> events)
    {
        foreach (var e in events)
        {
            if (e.Type == LeaseEventType.Added) Assert.Empty(routes.Set(e.Lease.Subnet, e.Lease.Attrs.PublicIP, 8285));
            else routes.Remove(e.Lease.Subnet);
        }
    }

    [Fact]
    public void An_overlapping_lease_never_displaces_known_ones_and_its_delete_changes_nothing()
    {
        var log = new ListLog();
        var w = new LeaseWatcher(Ip4Net.Parse("172.16.72.0/24"), log); // an own subnet outside the bad lease
        var routes = new RouteTable();
        Feed(routes, w.Reset([L("10.0.1.0/24", "192.0.2.1", rev: 1), L("10.0.2.0/24", "192.0.2.2", rev: 2)]));
        Assert.Empty(w.Apply(Put(L("10.0.0.0/8", "198.51.100.9", rev: 3))));
        Assert.True(log.Contains("10.0.0.0/8 (PublicIP 198.51.100.9) overlaps the known lease 10.0.1.0/24 (PublicIP 192.0.2.1)"), string.Join("\n", log.Messages));
        Assert.Equal(["10.0.1.0/24", "10.0.2.0/24"], routes.Routes.Select(r => r.Subnet.ToString()).Order());
        Assert.Empty(w.Apply(Del("10.0.0.0/8", 4)));
        Assert.Equal(["10.0.1.0/24", "10.0.2.0/24"], routes.Routes.Select(r => r.Subnet.ToString()).Order());
        Assert.Equal(2, w.Known.Count);
        Assert.Empty(w.Pending);
    }

    [Fact]
    public void A_refused_lease_is_taken_once_what_it_overlapped_is_gone()
    {
        var w = new LeaseWatcher(Ip4Net.Parse("172.16.72.0/24"), new ListLog());
        w.Reset([L("10.0.1.0/24", "192.0.2.1", rev: 1)]);
        Assert.Empty(w.Apply(Put(L("10.0.0.0/16", "192.0.2.9", rev: 2))));
        Assert.Equal("10.0.0.0/16", Assert.Single(w.Pending).Subnet.ToString());
        var events = w.Apply(Del("10.0.1.0/24", 3));
        Assert.Equal(2, events.Count);
        Assert.Equal((LeaseEventType.Removed, "10.0.1.0/24"), (events[0].Type, events[0].Lease.Subnet.ToString()));
        Assert.Equal((LeaseEventType.Added, "10.0.0.0/16"), (events[1].Type, events[1].Lease.Subnet.ToString()));
        Assert.Empty(w.Pending);
    }

    [Fact]
    public void A_lease_overlapping_the_own_subnet_is_refused_and_a_snapshot_keeps_incumbents()
    {
        var log = new ListLog();
        var w = new LeaseWatcher(Own, log);
        Assert.Empty(w.Apply(Put(L("10.0.0.0/8", "192.0.2.8", rev: 1))));
        Assert.True(log.Contains("own subnet 10.0.72.0/24"));
        // The bad lease was written first, but 10.0.1.0/24 is known by the time the snapshot comes: it stays.
        w.Apply(Put(L("10.0.1.0/24", "192.0.2.1", rev: 2)));
        Assert.Empty(w.Reset([L("10.0.0.0/8", "192.0.2.8", rev: 1), L("10.0.1.0/24", "192.0.2.1", rev: 2)]));
        Assert.Equal("10.0.1.0/24", Assert.Single(w.Known).Subnet.ToString());
    }

    [Fact]
    public void Watcher_view_and_route_table_agree_on_random_event_sequences()
    {
        string[] pool = ["10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24", "10.0.1.128/25", "10.0.2.0/24", "10.0.3.0/24", "10.1.0.0/16", "10.1.5.0/24", "10.0.72.0/24", "10.0.72.0/25"];
        var nets = pool.Select(Ip4Net.Parse).ToArray();
        for (var seed = 0; seed < 400; seed++)
        {
            var rng = new Random(seed);
            var w = new LeaseWatcher(Own);
            var routes = new RouteTable();
            var store = new Dictionary<Ip4Net, Lease>();
            long rev = 0;
            for (var step = 0; step < 60; step++)
            {
                var net = nets[rng.Next(nets.Length)];
                var roll = rng.Next(10);
                if (roll < 5)
                {
                    var lease = new Lease { Subnet = net, Attrs = new LeaseAttrs(Ip4.Parse($"192.0.2.{rng.Next(1, 5)}")), Revision = ++rev, EtcdLeaseId = 7 };
                    store[net] = lease;
                    Feed(routes, w.Apply(Put(lease)));
                }
                else if (roll < 9)
                {
                    store.Remove(net);
                    Feed(routes, w.Apply(new LeaseChange(LeaseChangeKind.Delete, net, null, ++rev)));
                }
                else
                {
                    Feed(routes, w.Reset([.. store.Values.OrderBy(_ => rng.Next())]));
                }

                var known = w.Known.ToDictionary(l => l.Subnet);
                var table = routes.Routes.ToDictionary(r => r.Subnet);
                Assert.Equal(known.Keys.Order(), table.Keys.Order());
                foreach (var (s, l) in known) Assert.Equal(l.Attrs.PublicIP, table[s].PublicIP);
                foreach (var a in known.Keys)
                {
                    Assert.False(a.Overlaps(Own), $"seed {seed}: {a} overlaps the own subnet");
                    foreach (var b in known.Keys) Assert.True(a == b || !a.Overlaps(b), $"seed {seed}: {a} and {b} both known");
                }
                // Every stored peer lease is known or pending, and a pending one really is blocked.
                var peers = store.Keys.Where(s => s != Own).Order().ToArray();
                Assert.Equal(peers, known.Keys.Concat(w.Pending.Select(p => p.Subnet)).Order().ToArray());
                foreach (var p in w.Pending)
                    Assert.True(p.Subnet.Overlaps(Own) || known.Keys.Any(k => k.Overlaps(p.Subnet)), $"seed {seed}: {p.Subnet} pending for nothing");
            }
        }
    }
}
