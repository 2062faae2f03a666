// Against the real etcd: what flannel nodes and etcdctl users observe in the store.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;

namespace FlannelPS.Core.Tests.Registry;

public sealed class EtcdRegistryIntegrationTests
{
    private const string Seed = """{"NetWork":"10.0.0.0/16"}""";

    private static Ip4 Ip(int i) => Ip4.Parse("192.0.2.0").Add(i);

    private static async Task<(EtcdSubnetRegistry Registry, SubnetManager Manager, ListLog Log)> NodeAsync(EtcdOptions options, int seed = 0)
    {
        var log = new ListLog();
        var registry = new EtcdSubnetRegistry(options, log, TimeProvider.System);
        await Task.CompletedTask;
        return (registry, new SubnetManager(registry, new Random(seed), log), log);
    }

    [Fact]
    public async Task Seed_config_written_by_etcdctl_gives_distinct_24s_with_86400s_etcd_leases()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        TestEtcd.Etcdctl("put", prefix + "/config", Seed);
        var (registry, manager, log) = await NodeAsync(options);
        await using var _ = registry;
        var config = await manager.GetNetworkConfigAsync(default);
        var subnets = new List<Ip4Net>();
        for (var i = 1; i <= 5; i++)
        {
            var lease = await manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(i)), null, default);
            Assert.Equal(24, lease.Subnet.PrefixLength);
            Assert.InRange(lease.Subnet.Address.Value, Ip4.Parse("10.0.1.0").Value, Ip4.Parse("10.0.100.0").Value);
            Assert.InRange((lease.Expiration!.Value - DateTimeOffset.UtcNow).TotalSeconds, 86390, 86401);
            subnets.Add(lease.Subnet);
        }
        Assert.Equal(5, subnets.Distinct().Count());

        var key = options.SubnetsPrefix + SubnetKey.Make(subnets[0]);
        var ttl = TestEtcd.TimeToLiveOf(key);
        Assert.Contains("granted with TTL(86400s)", ttl);
        Assert.Contains(key, ttl);
        Assert.Contains($"Allocated lease ({subnets[0]}) to current node ({Ip(1)})", log.Messages);
    }

    [Fact]
    public async Task Lease_value_is_flannels_json_byte_for_byte()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        await using var registry = new EtcdSubnetRegistry(options);
        var subnet = Ip4Net.Parse("10.0.72.0/24");
        Assert.NotNull(await registry.CreateLeaseAsync(subnet, new LeaseAttrs(Ip4.Parse("192.0.2.10")), TimeSpan.FromHours(1), default));
        var value = TestEtcd.Etcdctl("get", "--print-value-only", options.SubnetsPrefix + "10.0.72.0-24");
        Assert.Equal("{\"PublicIP\":\"192.0.2.10\",\"PublicIPv6\":null}\n", value);
        Assert.Equal($"{prefix}/subnets/10.0.72.0-24", options.SubnetsPrefix + "10.0.72.0-24");
    }

    [Fact]
    public async Task A_prefix_without_a_leading_slash_reads_and_writes_keys_without_one()
    {
        var prefix = $"test/{Guid.NewGuid():N}/network";
        var options = new EtcdOptions { Endpoints = [TestEtcd.Endpoint], Prefix = prefix + "/" };
        try
        {
            TestEtcd.Etcdctl("put", prefix + "/config", Seed);
            TestEtcd.Etcdctl("put", "/" + prefix + "/config", """{"Network":"10.99.0.0/16"}"""); // a different key
            var (registry, manager, _) = await NodeAsync(options);
            await using var _r = registry;
            var config = await manager.GetNetworkConfigAsync(default);
            Assert.Equal("10.0.0.0/16", config.Network.ToString());
            var lease = await manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(1)), null, default);
            var key = $"{prefix}/subnets/{SubnetKey.Make(lease.Subnet)}";
            Assert.Equal("{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null}\n", TestEtcd.Etcdctl("get", "--print-value-only", key));
            Assert.Equal(lease.Subnet, Assert.Single((await registry.GetLeasesAsync(default)).Leases).Subnet);
            Assert.Equal("/" + prefix + "/config\n", TestEtcd.Etcdctl("get", "--prefix", "--keys-only", "/" + prefix).Replace("\n\n", "\n"));
        }
        finally
        {
            TestEtcd.DeletePrefix(prefix);
            TestEtcd.DeletePrefix("/" + prefix);
        }
    }

    [Fact]
    public async Task Missing_config_is_flannels_error_and_config_roundtrips()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        var (registry, manager, _) = await NodeAsync(options);
        await using var _r = registry;
        var ex = await Assert.ThrowsAsync<NetworkConfigNotFoundException>(() => manager.GetNetworkConfigAsync(default));
        Assert.Equal("flannel config not found in etcd store. Did you create your config using etcdv3 API?", ex.Message);
        await registry.PutNetworkConfigAsync(Seed, default);
        Assert.Equal(Seed + "\n", TestEtcd.Etcdctl("get", "--print-value-only", prefix + "/config"));
        Assert.True(await registry.DeleteNetworkConfigAsync(default));
        Assert.Null(await registry.GetNetworkConfigAsync(default));
    }

    [Fact]
    public async Task Restart_with_the_same_public_ip_keeps_the_subnet()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        TestEtcd.Etcdctl("put", prefix + "/config", Seed);
        Ip4Net first;
        long firstLeaseId;
        {
            var (registry, manager, _) = await NodeAsync(options, seed: 1);
            await using var _r = registry;
            var lease = await manager.AcquireLeaseAsync(await manager.GetNetworkConfigAsync(default), new LeaseAttrs(Ip(10)), null, default);
            first = lease.Subnet;
            firstLeaseId = lease.EtcdLeaseId;
        }
        {
            var (registry, manager, log) = await NodeAsync(options, seed: 2); // another random stream: only reuse can give the same subnet
            await using var _r = registry;
            var lease = await manager.AcquireLeaseAsync(await manager.GetNetworkConfigAsync(default), new LeaseAttrs(Ip(10)), null, default);
            Assert.Equal(first, lease.Subnet);
            Assert.NotEqual(firstLeaseId, lease.EtcdLeaseId);
            Assert.Contains($"Found lease ({first}) for current IP ({Ip(10)}), reusing", log.Messages);
            Assert.Contains("granted with TTL(86400s)", TestEtcd.TimeToLiveOf(options.SubnetsPrefix + SubnetKey.Make(first)));
        }
    }

    [Fact]
    public async Task Previous_subnet_is_reused_by_a_new_public_ip_when_free()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        TestEtcd.Etcdctl("put", prefix + "/config", Seed);
        var (registry, manager, log) = await NodeAsync(options, seed: 3);
        await using var _r = registry;
        var config = await manager.GetNetworkConfigAsync(default);
        var old = await manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(20)), null, default);
        TestEtcd.Etcdctl("del", options.SubnetsPrefix + SubnetKey.Make(old.Subnet)); // as if it had expired

        var lease = await manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(21)), old.Subnet, default);
        Assert.Equal(old.Subnet, lease.Subnet);
        Assert.Contains($"Found previously leased subnet ({old.Subnet}), reusing", log.Messages);
    }

    [Fact]
    public async Task A_reservation_made_with_etcdctl_is_used_by_its_owner_and_never_leased_or_deleted()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        TestEtcd.Etcdctl("put", prefix + "/config", Seed);
        var key = options.SubnetsPrefix + "10.0.200.0-24";
        TestEtcd.Etcdctl("put", key, "{\"PublicIP\":\"192.0.2.30\",\"PublicIPv6\":null}");
        var (registry, manager, _) = await NodeAsync(options);
        await using var _r = registry;
        var config = await manager.GetNetworkConfigAsync(default);

        var lease = await manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(30), "udp"), null, default);
        Assert.Equal(Ip4Net.Parse("10.0.200.0/24"), lease.Subnet);
        Assert.True(lease.IsReservation);
        Assert.Null(lease.Expiration);
        Assert.Equal(0, TestEtcd.LeaseIdOf(key));

        // Renewal leaves it alone; a second start reuses it again; it stays without a lease.
        Assert.Same(lease, await manager.RenewLeaseAsync(lease, default));
        var again = await manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(30)), null, default);
        Assert.Equal(lease.Subnet, again.Subnet);
        Assert.Equal(0, TestEtcd.LeaseIdOf(key));

        // Other nodes never get it; a node whose config makes it incompatible does not delete it.
        var other = await manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(31)), Ip4Net.Parse("10.0.200.0/24"), default);
        Assert.NotEqual(lease.Subnet, other.Subnet);
        var narrow = FlannelPS.Core.Config.NetworkConfigParser.Parse("""{"Network":"10.0.0.0/16","SubnetMax":"10.0.100.0"}""");
        await manager.AcquireLeaseAsync(narrow, new LeaseAttrs(Ip(30)), null, default);
        Assert.Equal(0, TestEtcd.LeaseIdOf(key));
        Assert.Contains("192.0.2.30", TestEtcd.Etcdctl("get", "--print-value-only", key));
    }

    [Fact]
    public async Task Fifty_concurrent_nodes_with_their_own_clients_get_distinct_subnets()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        TestEtcd.Etcdctl("put", prefix + "/config", Seed);
        var nodes = new List<(EtcdSubnetRegistry Registry, SubnetManager Manager, ListLog Log)>();
        for (var i = 0; i < 50; i++) nodes.Add(await NodeAsync(options, seed: 1000 + i));
        try
        {
            using var start = new ManualResetEventSlim();
            var tasks = nodes.Select((n, i) => Task.Run(async () =>
            {
                var config = await n.Manager.GetNetworkConfigAsync(default);
                start.Wait();
                return await n.Manager.AcquireLeaseAsync(config, new LeaseAttrs(Ip(100 + i)), null, default);
            })).ToArray();
            start.Set();
            var leases = await Task.WhenAll(tasks);
            Assert.Equal(50, leases.Select(l => l.Subnet).Distinct().Count());
            var stored = (await nodes[0].Registry.GetLeasesAsync(default)).Leases;
            Assert.Equal(50, stored.Count);
            Assert.Equal(50, stored.Select(l => l.Attrs.PublicIP).Distinct().Count());
        }
        finally
        {
            foreach (var n in nodes) await n.Registry.DisposeAsync();
        }
    }

    [Fact]
    public async Task Peer_watch_sees_a_new_lease_and_a_delete_with_the_cached_public_ip()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        await using var registry = new EtcdSubnetRegistry(options);
        var own = await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.72.0/24"), new LeaseAttrs(Ip(72)), TimeSpan.FromHours(1), default);
        var events = new ConcurrentQueue<LeaseEvent>();
        var ownChanges = new ConcurrentQueue<Lease?>();
        var watch = new PeerLeaseWatch(registry, own!.Subnet, b => { foreach (var e in b) events.Enqueue(e); }, ownChanges.Enqueue, TimeProvider.System, NullLog.Instance);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = watch.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => watch.Revision > 0, "snapshot taken");
        await Task.Delay(200); // the watch stream is open

        var peerKey = options.SubnetsPrefix + "10.0.9.0-24";
        var leaseId = TestEtcd.Etcdctl("lease", "grant", "600").Split(' ')[1];
        TestEtcd.Etcdctl("put", "--lease=" + leaseId, peerKey, "{\"PublicIP\":\"192.0.2.9\",\"PublicIPv6\":null}");
        await Eventually.TrueAsync(() => events.Count == 1, "added event");
        var added = events.ToArray()[0];
        Assert.Equal(LeaseEventType.Added, added.Type);
        Assert.Equal(Ip4Net.Parse("10.0.9.0/24"), added.Lease.Subnet);
        Assert.InRange((added.Lease.Expiration!.Value - DateTimeOffset.UtcNow).TotalSeconds, 590, 601);

        TestEtcd.Etcdctl("del", peerKey);
        await Eventually.TrueAsync(() => events.Count == 2, "removed event");
        var removed = events.ToArray()[1];
        Assert.Equal(LeaseEventType.Removed, removed.Type);
        Assert.Equal(Ip4.Parse("192.0.2.9"), removed.Lease.Attrs.PublicIP);

        // The own key: rewritten → reported with its new lease; deleted → reported as lost.
        var rewritten = await registry.UpdateLeaseAsync(own.Subnet, own.Attrs, TimeSpan.FromHours(2), default);
        await Eventually.TrueAsync(() => ownChanges.Count == 1, "own rewrite");
        Assert.Equal(rewritten.EtcdLeaseId, ownChanges.ToArray()[0]!.EtcdLeaseId);
        TestEtcd.Etcdctl("del", options.SubnetsPrefix + "10.0.72.0-24");
        await Eventually.TrueAsync(() => ownChanges.Count == 2, "own delete");
        Assert.Null(ownChanges.ToArray()[1]);
        Assert.Equal(2, events.Count);

        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task Renewal_attaches_a_new_86400s_etcd_lease_to_the_key()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        var (registry, manager, log) = await NodeAsync(options);
        await using var _r = registry;
        // A lease that runs out in 63 s with the smallest margin flannel allows (1 min): the
        // renewer must act ~3 s from now, exactly as it would 23 h into a normal lease.
        var lease = await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.44.0/24"), new LeaseAttrs(Ip(44)), TimeSpan.FromSeconds(63), default);
        var key = options.SubnetsPrefix + "10.0.44.0-24";
        Assert.Contains("granted with TTL(63s)", TestEtcd.TimeToLiveOf(key));
        var renewer = new LeaseRenewer(manager, lease!, TimeSpan.FromMinutes(1), TimeProvider.System, log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = renewer.RunAsync(cts.Token);
        var sw = Stopwatch.StartNew();
        await Eventually.TrueAsync(() => log.Contains("Lease renewed, new expiration: "), "renewal", timeoutMs: 15000);
        Assert.InRange(sw.Elapsed.TotalSeconds, 1.5, 10);

        var newId = TestEtcd.LeaseIdOf(key);
        Assert.NotEqual(lease!.EtcdLeaseId, newId);
        Assert.Equal(renewer.Current.EtcdLeaseId, newId);
        var ttl = TestEtcd.TimeToLiveOf(key);
        Assert.Contains("granted with TTL(86400s)", ttl);
        Assert.Contains(key, ttl);
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task Compaction_surfaces_as_RegistryCompactedException_and_the_peer_watch_relists()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        await using var registry = new EtcdSubnetRegistry(options);
        await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.1.0/24"), new LeaseAttrs(Ip(1)), TimeSpan.FromHours(1), default);
        var stale = await registry.GetLeasesAsync(default);
        await registry.DeleteLeaseAsync(Ip4Net.Parse("10.0.1.0/24"), default);
        await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.2.0/24"), new LeaseAttrs(Ip(2)), TimeSpan.FromHours(1), default);
        var now = await registry.GetLeasesAsync(default);
        TestEtcd.Etcdctl("compact", now.Revision.ToString());

        await Assert.ThrowsAsync<RegistryCompactedException>(async () =>
        {
            await foreach (var _ in registry.WatchLeasesAsync(stale.Revision, default)) { }
        });

        // A peer watch that starts from the stale snapshot falls behind compaction, re-lists and diffs.
        var events = new ConcurrentQueue<LeaseEvent>();
        var log = new ListLog();
        var watch = new PeerLeaseWatch(new StaleFirstSnapshot(registry, stale), Ip4Net.Parse("10.0.72.0/24"),
            b => { foreach (var e in b) events.Enqueue(e); }, _ => { }, TimeProvider.System, log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = watch.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => events.Count == 3, "initial add + re-list diff");
        var list = events.ToArray();
        Assert.Equal(Ip4Net.Parse("10.0.1.0/24"), list[0].Lease.Subnet);
        Assert.Contains(list.Skip(1), e => e.Type == LeaseEventType.Removed && e.Lease.Attrs.PublicIP == Ip(1));
        Assert.Contains(list.Skip(1), e => e.Type == LeaseEventType.Added && e.Lease.Subnet == Ip4Net.Parse("10.0.2.0/24"));
        Assert.True(log.Contains("compacted"));
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task Bad_subnet_nodes_are_skipped()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        TestEtcd.Etcdctl("put", options.SubnetsPrefix + "not-a-subnet", "{\"PublicIP\":\"192.0.2.1\"}");
        TestEtcd.Etcdctl("put", options.SubnetsPrefix + "10.0.3.0-24", "not json");
        TestEtcd.Etcdctl("put", options.SubnetsPrefix + "10.0.4.0-24", "{\"PublicIP\":\"192.0.2.4\",\"PublicIPv6\":null}");
        var log = new ListLog();
        await using var registry = new EtcdSubnetRegistry(options, log, TimeProvider.System);
        var lease = Assert.Single((await registry.GetLeasesAsync(default)).Leases);
        Assert.Equal(Ip4Net.Parse("10.0.4.0/24"), lease.Subnet);
        Assert.True(lease.IsReservation);
        Assert.Equal(2, log.Count("Ignoring bad subnet node"));
    }

    [Fact]
    public async Task Listing_for_allocation_skips_ttl_lookups_but_keeps_lease_ids()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        await using var registry = new EtcdSubnetRegistry(options);
        var leased = await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.6.0/24"), new LeaseAttrs(Ip(6)), TimeSpan.FromHours(1), default);
        await registry.PutReservationAsync(Ip4Net.Parse("10.0.7.0/24"), new LeaseAttrs(Ip(7)), default);

        var full = (await registry.GetLeasesAsync(default)).Leases.ToDictionary(l => l.Subnet);
        Assert.InRange((full[leased!.Subnet].Expiration!.Value - DateTimeOffset.UtcNow).TotalSeconds, 3590, 3601);
        Assert.Null(full[Ip4Net.Parse("10.0.7.0/24")].Expiration);

        var light = (await registry.GetLeasesWithoutExpirationAsync(default)).Leases.ToDictionary(l => l.Subnet);
        Assert.Equal(leased.EtcdLeaseId, light[leased.Subnet].EtcdLeaseId);
        Assert.False(light[leased.Subnet].IsReservation);
        Assert.True(light[Ip4Net.Parse("10.0.7.0/24")].IsReservation);
        Assert.Equal(leased.EtcdLeaseId, TestEtcd.LeaseIdOf(options.SubnetsPrefix + "10.0.6.0-24"));
    }

    [Fact]
    public async Task Losing_the_create_race_revokes_the_granted_lease()
    {
        using var etcd = TestEtcd.NewScope();
        var (options, prefix) = (etcd.Options, etcd.Prefix);
        var log = new ListLog();
        await using var registry = new EtcdSubnetRegistry(options, log, TimeProvider.System);
        var subnet = Ip4Net.Parse("10.0.50.0/24");
        Assert.NotNull(await registry.CreateLeaseAsync(subnet, new LeaseAttrs(Ip(1)), TimeSpan.FromHours(1), default));
        Assert.Null(await registry.CreateLeaseAsync(subnet, new LeaseAttrs(Ip(2)), TimeSpan.FromHours(1), default));
        // The etcd lease granted for the losing attempt is gone, not idling for an hour.
        var line = Assert.Single(log.Messages, m => m.Contains("revoked the unused etcd lease", StringComparison.Ordinal));
        var id = line[(line.LastIndexOf(' ') + 1)..];
        Assert.Contains("already expired", TestEtcd.Etcdctl("lease", "timetolive", id));
        Assert.Contains("192.0.2.1", TestEtcd.Etcdctl("get", "--print-value-only", options.SubnetsPrefix + "10.0.50.0-24"));
    }

    [Fact]
    public async Task An_endpoint_with_nothing_listening_fails_within_the_bound_naming_it()
    {
        var port = FreePort();
        var options = new EtcdOptions { Endpoints = [$"http://127.0.0.1:{port}"], RequestTimeout = TimeSpan.FromSeconds(1) };
        await using var registry = new EtcdSubnetRegistry(options);
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<EtcdUnavailableException>(() => registry.GetLeasesAsync(default));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"took {sw.Elapsed}");
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
    }

    [Fact]
    public async Task An_endpoint_that_accepts_but_never_answers_fails_within_the_bound()
    {
        // A TCP peer that accepts and stays silent: only the deadline can end these calls.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new ConcurrentBag<TcpClient>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var acceptLoop = Task.Run(async () =>
        {
            try { while (true) held.Add(await listener.AcceptTcpClientAsync(stop.Token)); }
            catch (OperationCanceledException) { }
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = new EtcdOptions { Endpoints = [$"http://127.0.0.1:{port}"], RequestTimeout = TimeSpan.FromSeconds(1), Prefix = "/x" };
        try
        {
            await using var registry = new EtcdSubnetRegistry(options);
            foreach (var call in new Func<Task>[]
            {
                () => registry.GetNetworkConfigAsync(default),
                () => registry.CreateLeaseAsync(Ip4Net.Parse("10.0.1.0/24"), new LeaseAttrs(Ip(1)), TimeSpan.FromHours(1), default),
                async () => { await foreach (var _ in registry.WatchLeasesAsync(0, default)) { } },
            })
            {
                var sw = Stopwatch.StartNew();
                var ex = await Assert.ThrowsAsync<EtcdUnavailableException>(call);
                Assert.InRange(sw.Elapsed.TotalSeconds, 0.5, 3);
                Assert.Contains($"127.0.0.1:{port}", ex.Message);
            }
        }
        finally
        {
            // Cancel, then let the loop end, then stop listening: stopped first, a loop that had just
            // accepted would call AcceptTcpClientAsync on a stopped listener and throw "Not listening"
            // (seen once in CI) instead of ending on the cancelled token.
            stop.Cancel();
            await acceptLoop;
            listener.Stop();
            foreach (var c in held) c.Dispose();
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Hands out one old snapshot first (as if the node had been away), then the real thing.</summary>
    private sealed class StaleFirstSnapshot(ISubnetRegistry inner, LeaseSnapshot stale) : ISubnetRegistry
    {
        private int _calls;
        public string Endpoints => inner.Endpoints;
        public Task<LeaseSnapshot> GetLeasesAsync(CancellationToken ct) =>
            Interlocked.Increment(ref _calls) == 1 ? Task.FromResult(stale) : inner.GetLeasesAsync(ct);
        public IAsyncEnumerable<LeaseChange> WatchLeasesAsync(long afterRevision, CancellationToken ct) => inner.WatchLeasesAsync(afterRevision, ct);
        public Task<string?> GetNetworkConfigAsync(CancellationToken ct) => inner.GetNetworkConfigAsync(ct);
        public Task PutNetworkConfigAsync(string json, CancellationToken ct) => inner.PutNetworkConfigAsync(json, ct);
        public Task<bool> DeleteNetworkConfigAsync(CancellationToken ct) => inner.DeleteNetworkConfigAsync(ct);
        public Task<Lease?> GetLeaseAsync(Ip4Net subnet, CancellationToken ct) => inner.GetLeaseAsync(subnet, ct);
        public Task<Lease?> CreateLeaseAsync(Ip4Net s, LeaseAttrs a, TimeSpan t, CancellationToken ct) => inner.CreateLeaseAsync(s, a, t, ct);
        public Task<Lease> UpdateLeaseAsync(Ip4Net s, LeaseAttrs a, TimeSpan t, CancellationToken ct) => inner.UpdateLeaseAsync(s, a, t, ct);
        public Task<Lease> PutReservationAsync(Ip4Net s, LeaseAttrs a, CancellationToken ct) => inner.PutReservationAsync(s, a, ct);
        public Task<bool> DeleteLeaseAsync(Ip4Net s, CancellationToken ct) => inner.DeleteLeaseAsync(s, ct);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
