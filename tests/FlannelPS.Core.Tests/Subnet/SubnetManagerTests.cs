using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlannelPS.Core.Tests.Subnet;

public sealed class SubnetManagerTests
{
    private static readonly Ip4 Me = Ip4.Parse("192.0.2.10");
    private static readonly Ip4 Other = Ip4.Parse("192.0.2.20");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ListLog _log = new();
    private readonly InMemorySubnetRegistry _registry;
    private readonly SubnetManager _manager;
    private readonly NetworkConfig _seed = NetworkConfigParser.Parse("""{"NetWork":"10.0.0.0/16"}""");

    public SubnetManagerTests()
    {
        _registry = new InMemorySubnetRegistry(_time);
        _manager = new SubnetManager(_registry, new Random(42), _log);
    }

    private static Ip4Net Net(string cidr) => Ip4Net.Parse(cidr);

    [Fact]
    public async Task Missing_config_is_flannels_not_found_error()
    {
        var ex = await Assert.ThrowsAsync<NetworkConfigNotFoundException>(() => _manager.GetNetworkConfigAsync(default));
        Assert.Equal(NetworkConfigNotFoundException.Text, ex.Message);
    }

    [Fact]
    public async Task Invalid_config_is_a_validation_error()
    {
        await _registry.PutNetworkConfigAsync("""{"Network":"10.0.0.0/16","SubnetLen":8}""", default);
        await Assert.ThrowsAsync<NetworkConfigInvalidException>(() => _manager.GetNetworkConfigAsync(default));
    }

    [Fact]
    public async Task Config_is_read_and_parsed()
    {
        await _registry.PutNetworkConfigAsync("""{"NetWork":"10.0.0.0/16"}""", default);
        var config = await _manager.GetNetworkConfigAsync(default);
        Assert.Equal(Net("10.0.0.0/16"), config.Network);
        Assert.Equal(24, config.SubnetLen);
    }

    [Fact]
    public async Task First_node_gets_a_24_among_the_first_100_with_a_24h_lease()
    {
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default);
        Assert.Equal(24, lease.Subnet.PrefixLength);
        Assert.InRange(lease.Subnet.Address.Value, Ip4.Parse("10.0.1.0").Value, Ip4.Parse("10.0.100.0").Value);
        Assert.Equal(_time.GetUtcNow().AddSeconds(86400), lease.Expiration);
        Assert.False(lease.IsReservation);
        Assert.Contains("Picking subnet in range 10.0.1.0 ... 10.0.255.0", _log.Messages);
        Assert.Contains($"Allocated lease ({lease.Subnet}) to current node (192.0.2.10)", _log.Messages);
    }

    [Fact]
    public async Task Candidates_are_the_first_100_free_subnets_uniformly()
    {
        var seen = new HashSet<Ip4Net>();
        for (var seed = 0; seed < 400; seed++)
        {
            var reg = new InMemorySubnetRegistry(_time);
            // Occupy 10.0.1.0 .. 10.0.10.0: candidates then run 10.0.11.0 .. 10.0.110.0.
            for (var i = 1; i <= 10; i++) reg.PutRaw(Net($"10.0.{i}.0/24"), new LeaseAttrs(Other.Add(i)), TimeSpan.FromHours(1));
            var lease = await new SubnetManager(reg, new Random(seed), NullLogInstance).AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default);
            Assert.InRange(lease.Subnet.Address.Value, Ip4.Parse("10.0.11.0").Value, Ip4.Parse("10.0.110.0").Value);
            seen.Add(lease.Subnet);
        }
        Assert.True(seen.Count > 80, $"only {seen.Count} distinct picks out of 100 candidates: not uniform");
    }

    private static Diagnostics.ILog NullLogInstance => Diagnostics.NullLog.Instance;

    [Fact]
    public async Task Restart_with_same_public_ip_reuses_and_refreshes_the_lease()
    {
        _registry.PutRaw(Net("10.0.5.0/24"), new LeaseAttrs(Me), TimeSpan.FromHours(2));
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me, "udp"), null, default);
        Assert.Equal(Net("10.0.5.0/24"), lease.Subnet);
        Assert.Equal("udp", lease.Attrs.BackendType);
        Assert.Equal(_time.GetUtcNow().AddSeconds(86400), lease.Expiration);
        Assert.Equal(1, _registry.UpdateCalls);
        Assert.Equal(0, _registry.CreateCalls);
        Assert.Contains("Found lease (10.0.5.0/24) for current IP (192.0.2.10), reusing", _log.Messages);
    }

    [Fact]
    public async Task A_reservation_is_used_by_its_owner_and_stays_a_reservation()
    {
        _registry.PutRaw(Net("10.0.200.0/24"), new LeaseAttrs(Me), ttl: null);
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default);
        Assert.Equal(Net("10.0.200.0/24"), lease.Subnet);
        Assert.True(lease.IsReservation);
        Assert.Null(lease.Expiration);
        Assert.Equal(0, _registry.UpdateCalls);
        Assert.Equal(1, _registry.ReservationPuts);
        var stored = await _registry.GetLeaseAsync(Net("10.0.200.0/24"), default);
        Assert.True(stored!.IsReservation);
    }

    [Fact]
    public async Task A_reservation_is_preferred_over_an_ordinary_lease_for_the_same_ip()
    {
        _registry.PutRaw(Net("10.0.3.0/24"), new LeaseAttrs(Me), TimeSpan.FromHours(1));
        _registry.PutRaw(Net("10.0.200.0/24"), new LeaseAttrs(Me), ttl: null);
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default);
        Assert.Equal(Net("10.0.200.0/24"), lease.Subnet);
    }

    [Fact]
    public async Task An_incompatible_own_lease_is_deleted_and_a_new_one_allocated()
    {
        _registry.PutRaw(Net("10.0.5.0/25"), new LeaseAttrs(Me), TimeSpan.FromHours(1));
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default);
        Assert.Equal(24, lease.Subnet.PrefixLength);
        Assert.Null(await _registry.GetLeaseAsync(Net("10.0.5.0/25"), default));
        Assert.Contains("Found lease (10.0.5.0/25) for current IP (192.0.2.10) but not compatible with current config, deleting", _log.Messages);
    }

    [Fact]
    public async Task An_incompatible_reservation_is_never_deleted()
    {
        // A /22 whose only other candidates are taken: 10.0.1.0/24 is free only if the /25
        // reservation inside it were ignored or deleted.
        var small = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/22"}"""); // 10.0.1.0 .. 10.0.3.0
        for (var i = 2; i <= 3; i++) _registry.PutRaw(Net($"10.0.{i}.0/24"), new LeaseAttrs(Other.Add(i)), TimeSpan.FromHours(1));
        _registry.PutRaw(Net("10.0.1.0/25"), new LeaseAttrs(Me), ttl: null);
        await Assert.ThrowsAsync<OutOfSubnetsException>(() => _manager.AcquireLeaseAsync(small, new LeaseAttrs(Me), null, default));
        Assert.Equal(0, _registry.DeleteCalls);
        Assert.NotNull(await _registry.GetLeaseAsync(Net("10.0.1.0/25"), default));
    }

    [Fact]
    public async Task The_previous_subnet_is_reused_when_free()
    {
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), Net("10.0.222.0/24"), default);
        Assert.Equal(Net("10.0.222.0/24"), lease.Subnet);
        Assert.Contains("Found previously leased subnet (10.0.222.0/24), reusing", _log.Messages);
        Assert.False(_log.Contains("Picking subnet"));
    }

    [Fact]
    public async Task The_previous_subnet_is_not_taken_from_another_node()
    {
        _registry.PutRaw(Net("10.0.222.0/24"), new LeaseAttrs(Other), TimeSpan.FromHours(1));
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), Net("10.0.222.0/24"), default);
        Assert.NotEqual(Net("10.0.222.0/24"), lease.Subnet);
        Assert.Equal(Other, (await _registry.GetLeaseAsync(Net("10.0.222.0/24"), default))!.Attrs.PublicIP);
    }

    [Fact]
    public async Task An_incompatible_previous_subnet_is_ignored()
    {
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), Net("10.1.5.0/24"), default);
        Assert.Equal(Net("10.0.0.0/16").Address.Value, lease.Subnet.Address.Value & 0xFFFF0000);
        Assert.True(_log.Contains("not compatible"));
    }

    [Fact]
    public async Task A_lost_race_is_retried_and_both_nodes_end_distinct()
    {
        var rivalWon = false;
        _registry.BeforeCreate = async subnet =>
        {
            if (rivalWon) return;
            rivalWon = true;
            _registry.PutRaw(subnet, new LeaseAttrs(Other), TimeSpan.FromHours(24)); // the rival's Txn lands first
            await Task.Yield();
        };
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default);
        var leases = (await _registry.GetLeasesAsync(default)).Leases;
        Assert.Equal(2, leases.Count);
        Assert.NotEqual(leases.Single(l => l.Attrs.PublicIP == Other).Subnet, lease.Subnet);
        Assert.Equal(2, _registry.CreateCalls);
    }

    [Fact]
    public async Task Losing_every_race_ends_after_10_attempts_with_flannels_text()
    {
        var n = 0;
        _registry.BeforeCreate = subnet =>
        {
            _registry.PutRaw(subnet, new LeaseAttrs(Other.Add(++n)), TimeSpan.FromHours(24));
            return Task.CompletedTask;
        };
        var ex = await Assert.ThrowsAsync<FlannelException>(() => _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default));
        Assert.Equal("max retries reached trying to acquire a subnet", ex.Message);
        Assert.Equal(10, _registry.CreateCalls);
    }

    [Fact]
    public async Task A_full_network_is_out_of_subnets()
    {
        var small = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/22"}"""); // 10.0.1.0 .. 10.0.3.0
        for (var i = 1; i <= 3; i++) _registry.PutRaw(Net($"10.0.{i}.0/24"), new LeaseAttrs(Other.Add(i)), TimeSpan.FromHours(1));
        var ex = await Assert.ThrowsAsync<OutOfSubnetsException>(() => _manager.AcquireLeaseAsync(small, new LeaseAttrs(Me), null, default));
        Assert.Equal("out of subnets", ex.Message);
    }

    [Fact]
    public async Task Expired_leases_free_their_subnet()
    {
        var small = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/22"}""");
        for (var i = 1; i <= 3; i++) _registry.PutRaw(Net($"10.0.{i}.0/24"), new LeaseAttrs(Other.Add(i)), TimeSpan.FromHours(i));
        _time.Advance(TimeSpan.FromMinutes(61));
        var lease = await _manager.AcquireLeaseAsync(small, new LeaseAttrs(Me), null, default);
        Assert.Equal(Net("10.0.1.0/24"), lease.Subnet);
    }

    [Fact]
    public async Task Renewal_puts_a_fresh_24h_lease_and_leaves_reservations_alone()
    {
        var lease = await _manager.AcquireLeaseAsync(_seed, new LeaseAttrs(Me), null, default);
        _time.Advance(TimeSpan.FromHours(23));
        var renewed = await _manager.RenewLeaseAsync(lease, default);
        Assert.Equal(lease.Subnet, renewed.Subnet);
        Assert.NotEqual(lease.EtcdLeaseId, renewed.EtcdLeaseId);
        Assert.Equal(_time.GetUtcNow().AddSeconds(86400), renewed.Expiration);

        var reservation = await _registry.PutReservationAsync(Net("10.0.250.0/24"), new LeaseAttrs(Other), default);
        var updatesBefore = _registry.UpdateCalls;
        Assert.Same(reservation, await _manager.RenewLeaseAsync(reservation, default));
        Assert.Equal(updatesBefore, _registry.UpdateCalls);
    }

    [Fact]
    public async Task A_reservation_must_fit_the_config_and_is_written_only_when_approved()
    {
        var ex = await Assert.ThrowsAsync<FlannelException>(() => _manager.ReserveAsync(_seed, Net("10.9.0.0/24"), new LeaseAttrs(Me), () => true, default));
        Assert.Equal("FlannelSubnetIncompatible", ex.ErrorId);
        Assert.Contains("10.9.0.0/24", ex.Message);
        Assert.Null(await _manager.ReserveAsync(_seed, Net("10.0.9.0/24"), new LeaseAttrs(Me), () => false, default));
        Assert.Null(await _registry.GetLeaseAsync(Net("10.0.9.0/24"), default));
        var r = await _manager.ReserveAsync(_seed, Net("10.0.9.0/24"), new LeaseAttrs(Me), () => true, default);
        Assert.NotNull(r);
        Assert.True(r.IsReservation);
    }

    [Fact]
    public async Task A_reservation_never_takes_a_subnet_held_by_another_PublicIP_and_asks_nothing_then()
    {
        await _registry.CreateLeaseAsync(Net("10.0.9.0/24"), new LeaseAttrs(Other), SubnetManager.LeaseTtl, default);
        var asked = false;
        var ex = await Assert.ThrowsAsync<FlannelException>(() => _manager.ReserveAsync(_seed, Net("10.0.9.0/24"), new LeaseAttrs(Me), () => asked = true, default));
        Assert.Equal("FlannelSubnetTaken", ex.ErrorId);
        Assert.False(asked);
        Assert.Equal(Other, (await _registry.GetLeaseAsync(Net("10.0.9.0/24"), default))!.Attrs.PublicIP);
        // Its own lease may become a reservation.
        await _registry.CreateLeaseAsync(Net("10.0.10.0/24"), new LeaseAttrs(Me), SubnetManager.LeaseTtl, default);
        Assert.True((await _manager.ReserveAsync(_seed, Net("10.0.10.0/24"), new LeaseAttrs(Me), () => true, default))!.IsReservation);
    }
}
