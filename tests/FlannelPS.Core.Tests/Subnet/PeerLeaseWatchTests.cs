using System.Collections.Concurrent;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlannelPS.Core.Tests.Subnet;

public sealed class PeerLeaseWatchTests
{
    private static readonly Ip4Net Own = Ip4Net.Parse("10.0.72.0/24");
    private readonly InMemorySubnetRegistry _registry = new(TimeProvider.System);
    private readonly ConcurrentQueue<LeaseEvent> _events = new();
    private readonly ConcurrentQueue<Lease?> _own = new();
    private readonly ListLog _log = new();

    private PeerLeaseWatch NewWatch(TimeProvider? time = null) =>
        new(_registry, Own, batch => { foreach (var e in batch) _events.Enqueue(e); }, l => _own.Enqueue(l), time ?? TimeProvider.System, _log);

    private static LeaseAttrs A(string ip) => new(Ip4.Parse(ip));

    [Fact]
    public async Task Snapshot_then_live_adds_and_deletes_with_cached_attrs()
    {
        _registry.PutRaw(Own, A("192.0.2.72"), TimeSpan.FromHours(1));
        _registry.PutRaw(Ip4Net.Parse("10.0.1.0/24"), A("192.0.2.1"), TimeSpan.FromHours(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watch = NewWatch();
        var run = watch.RunAsync(cts.Token);

        await Eventually.TrueAsync(() => _events.Count == 1, "the snapshot's peer");
        await Eventually.TrueAsync(() => _registry.ActiveWatches == 1, "watch open");
        await _registry.CreateLeaseAsync(Ip4Net.Parse("10.0.2.0/24"), A("192.0.2.2"), TimeSpan.FromHours(1), default);
        await _registry.DeleteLeaseAsync(Ip4Net.Parse("10.0.1.0/24"), default);
        await Eventually.TrueAsync(() => _events.Count == 3, "add + remove");

        var list = _events.ToArray();
        Assert.Equal(LeaseEventType.Added, list[1].Type);
        Assert.Equal(Ip4Net.Parse("10.0.2.0/24"), list[1].Lease.Subnet);
        Assert.Equal(LeaseEventType.Removed, list[2].Type);
        Assert.Equal(Ip4.Parse("192.0.2.1"), list[2].Lease.Attrs.PublicIP);
        Assert.DoesNotContain(list, e => e.Lease.Subnet == Own);
        Assert.Empty(_own); // first sight of the own lease is not news

        cts.Cancel();
        await run; // ends quietly on cancellation
    }

    [Fact]
    public async Task Leases_written_in_one_answer_reach_the_backend_in_one_call()
    {
        var calls = new ConcurrentQueue<int>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = new PeerLeaseWatch(_registry, Own, batch => calls.Enqueue(batch.Count), _ => { }, TimeProvider.System, _log).RunAsync(cts.Token);
        await Eventually.TrueAsync(() => _registry.ActiveWatches == 1, "watch open");
        _registry.PutRawTogether(Enumerable.Range(1, 300).Select(i => (new Ip4Net(Ip4.Parse("10.1.0.0").Add(i << 8), 24), A("198.51.100.1"))).ToList(), TimeSpan.FromHours(1));
        await Eventually.TrueAsync(() => calls.Sum() == 300, "all 300 delivered");
        Assert.Equal([300], calls.ToArray());
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task Own_key_rewrite_and_delete_are_reported_separately()
    {
        _registry.PutRaw(Own, A("192.0.2.72"), TimeSpan.FromHours(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = NewWatch().RunAsync(cts.Token);
        await Eventually.TrueAsync(() => _registry.ActiveWatches == 1, "watch open");

        var rewritten = await _registry.UpdateLeaseAsync(Own, A("192.0.2.72"), TimeSpan.FromHours(24), default);
        await Eventually.TrueAsync(() => _own.Count == 1, "own rewrite");
        Assert.Equal(rewritten.Expiration, _own.ToArray()[0]!.Expiration);

        await _registry.DeleteLeaseAsync(Own, default);
        await Eventually.TrueAsync(() => _own.Count == 2, "own delete");
        Assert.Null(_own.ToArray()[1]);
        Assert.Empty(_events);
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task Compaction_relists_and_diffs_what_was_missed()
    {
        _registry.PutRaw(Own, A("192.0.2.72"), TimeSpan.FromHours(1));
        _registry.PutRaw(Ip4Net.Parse("10.0.1.0/24"), A("192.0.2.1"), TimeSpan.FromHours(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = NewWatch().RunAsync(cts.Token);
        await Eventually.TrueAsync(() => _registry.ActiveWatches == 1 && _events.Count == 1, "watch open");

        // The connection drops; while the watch waits out its 100 ms backoff, changes happen and the
        // history holding them is compacted away, so reopening at the old revision must fail.
        _registry.BreakWatches(new Exception("connection reset"));
        await _registry.DeleteLeaseAsync(Ip4Net.Parse("10.0.1.0/24"), default);
        await _registry.CreateLeaseAsync(Ip4Net.Parse("10.0.3.0/24"), A("192.0.2.3"), TimeSpan.FromHours(1), default);
        _registry.CompactAndBreakWatches();

        await Eventually.TrueAsync(() => _events.Count == 3, "re-list diff");
        var list = _events.ToArray();
        Assert.Contains(list.Skip(1), e => e.Type == LeaseEventType.Removed && e.Lease.Attrs.PublicIP == Ip4.Parse("192.0.2.1"));
        Assert.Contains(list.Skip(1), e => e.Type == LeaseEventType.Added && e.Lease.Subnet == Ip4Net.Parse("10.0.3.0/24"));
        Assert.True(_log.Contains("compacted"));
        Assert.True(_log.Contains("Watch subnets: connection reset"));
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task Failures_back_off_exponentially_from_100ms_to_5s_and_recover()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var calls = 0;
        var failing = true;
        _registry.BeforeCall = op => { if (op == "GetLeases") { Interlocked.Increment(ref calls); if (failing) throw new Exception("etcd down"); } };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = NewWatch(time).RunAsync(cts.Token);

        await Eventually.TrueAsync(() => calls == 1, "first try");
        // Expected waits: 100, 200, 400, 800, 1600, 3200, 5000, 5000 ms.
        var waits = new[] { 100, 200, 400, 800, 1600, 3200, 5000, 5000 };
        for (var i = 0; i < waits.Length; i++)
        {
            await Eventually.TrueAsync(() => _log.Count("Watch subnets: etcd down") == i + 1, $"failure {i + 1} logged");
            Assert.Contains($"(retrying in {waits[i]} ms)", _log.Messages[^1]);
            await Task.Delay(20); // let the loop arm its backoff timer
            time.Advance(TimeSpan.FromMilliseconds(waits[i] - 1));
            await Task.Delay(20);
            Assert.Equal(i + 1, calls); // not before the backoff ran out
            if (i == waits.Length - 1) failing = false;
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Eventually.TrueAsync(() => calls == i + 2, $"retry {i + 1}");
        }
        await Eventually.TrueAsync(() => _registry.ActiveWatches == 1, "recovered into a watch");
        Assert.False(run.IsCompleted);
        cts.Cancel();
        await run;
    }
}
