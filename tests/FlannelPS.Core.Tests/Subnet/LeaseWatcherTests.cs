using FlannelPS.Core.Backend;
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
}
