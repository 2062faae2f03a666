using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlannelPS.Core.Tests.Subnet;

public sealed class LeaseRenewerTests
{
    private static readonly Ip4Net Sn = Ip4Net.Parse("10.0.72.0/24");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ListLog _log = new();
    private readonly InMemorySubnetRegistry _registry;
    private readonly SubnetManager _manager;

    public LeaseRenewerTests()
    {
        _registry = new InMemorySubnetRegistry(_time);
        _manager = new SubnetManager(_registry, new Random(1), _log);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0.5)]
    [InlineData(1440)]
    [InlineData(-5)]
    public void Margin_outside_1_to_1439_minutes_is_flannels_error(double minutes)
    {
        var lease = new Lease { Subnet = Sn, Attrs = new LeaseAttrs(Ip4.Parse("192.0.2.10")), EtcdLeaseId = 1, Expiration = _time.GetUtcNow().AddDays(1) };
        var ex = Assert.Throws<FlannelException>(() => new LeaseRenewer(_manager, lease, TimeSpan.FromMinutes(minutes), _time, _log));
        Assert.Equal("Invalid subnet-lease-renew-margin option, out of acceptable range", ex.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(60)]
    [InlineData(1439)]
    public void Margin_in_range_is_accepted(double minutes) => LeaseRenewer.ValidateMargin(TimeSpan.FromMinutes(minutes));

    [Fact]
    public async Task Renews_at_expiration_minus_margin_with_a_fresh_24h_lease()
    {
        var lease = await _registry.CreateLeaseAsync(Sn, new LeaseAttrs(Ip4.Parse("192.0.2.10")), SubnetManager.LeaseTtl, default);
        var renewer = new LeaseRenewer(_manager, lease!, TimeSpan.FromMinutes(60), _time, _log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = renewer.RunAsync(cts.Token);

        await Eventually.TrueAsync(() => _log.Contains("Waiting for 23h0m0s to renew lease"), "waiting line");
        await Task.Delay(30);
        _time.Advance(TimeSpan.FromHours(23) - TimeSpan.FromSeconds(1));
        await Task.Delay(30);
        Assert.Equal(0, _registry.UpdateCalls);

        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => _registry.UpdateCalls == 1, "renewal");
        await Eventually.TrueAsync(() => _log.Contains("Lease renewed, new expiration: 2024-01-02 23:00:00 +0000 UTC"), "renewed line");
        Assert.Equal(_time.GetUtcNow().AddDays(1), renewer.Current.Expiration);
        Assert.NotEqual(lease!.EtcdLeaseId, renewer.Current.EtcdLeaseId);

        // and again a day later
        await Eventually.TrueAsync(() => _log.Count("Waiting for 23h0m0s to renew lease") == 2, "second wait");
        await Task.Delay(30);
        _time.Advance(TimeSpan.FromHours(23));
        await Eventually.TrueAsync(() => _registry.UpdateCalls == 2, "second renewal");
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task A_failed_renewal_is_retried_every_minute()
    {
        var lease = await _registry.CreateLeaseAsync(Sn, new LeaseAttrs(Ip4.Parse("192.0.2.10")), TimeSpan.FromMinutes(61), default);
        var failures = 2;
        var attempts = 0;
        _registry.BeforeCall = op => { if (op == "UpdateLease" && attempts++ >= 0 && failures-- > 0) throw new EtcdUnavailableException("memory://", "simulated outage"); };
        var renewer = new LeaseRenewer(_manager, lease!, TimeSpan.FromMinutes(60), _time, _log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = renewer.RunAsync(cts.Token);

        await Eventually.TrueAsync(() => _log.Contains("Waiting for 1m0s to renew lease"), "waiting line");
        await Task.Delay(30);
        _time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => _log.Count("Error renewing lease (trying again in 1 min): ") == 1, "first failure");
        await Task.Delay(30);
        _time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(30);
        Assert.Equal(1, _log.Count("Error renewing lease"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => _log.Count("Error renewing lease (trying again in 1 min): ") == 2, "second failure");
        await Task.Delay(30);
        _time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => _log.Contains("Lease renewed, new expiration: "), "recovered");
        Assert.Equal(3, attempts);
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task An_updated_lease_moves_the_wake_up_time()
    {
        var lease = await _registry.CreateLeaseAsync(Sn, new LeaseAttrs(Ip4.Parse("192.0.2.10")), SubnetManager.LeaseTtl, default);
        var renewer = new LeaseRenewer(_manager, lease!, TimeSpan.FromMinutes(60), _time, _log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = renewer.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => _log.Contains("Waiting for 23h0m0s to renew lease"), "first wait");

        // Someone rewrote our key with a lease that runs out in 90 minutes.
        renewer.Update(lease! with { Expiration = _time.GetUtcNow().AddMinutes(90), EtcdLeaseId = 99 });
        await Eventually.TrueAsync(() => _log.Contains("Waiting for 30m0s to renew lease"), "recomputed wait");
        await Task.Delay(30);
        _time.Advance(TimeSpan.FromMinutes(30));
        await Eventually.TrueAsync(() => _registry.UpdateCalls == 1, "early renewal");
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task A_rewrite_of_the_key_moves_the_timing_but_the_renewal_writes_the_nodes_own_attributes_back()
    {
        var own = new LeaseAttrs(Ip4.Parse("192.0.2.10"), "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0a:11:22:33:44:55\"}");
        var lease = await _registry.CreateLeaseAsync(Sn, own, SubnetManager.LeaseTtl, default);
        var renewer = new LeaseRenewer(_manager, lease!, TimeSpan.FromMinutes(60), _time, _log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = renewer.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => _log.Contains("Waiting for 23h0m0s to renew lease"), "first wait");

        // Someone put another host's address on our key, on an etcd lease that runs out in 90 minutes.
        var foreign = new LeaseAttrs(Ip4.Parse("192.0.2.99"));
        renewer.Update(lease! with { Attrs = foreign, Expiration = _time.GetUtcNow().AddMinutes(90), EtcdLeaseId = 99 });
        await Eventually.TrueAsync(() => _log.Contains("Waiting for 30m0s to renew lease"), "recomputed wait");
        await Task.Delay(30);
        _time.Advance(TimeSpan.FromMinutes(30));
        await Eventually.TrueAsync(() => _registry.UpdateCalls == 1, "early renewal");
        Assert.Equal(own, (await _registry.GetLeaseAsync(Sn, default))!.Attrs);
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task A_reservation_is_never_renewed()
    {
        var reservation = await _registry.PutReservationAsync(Sn, new LeaseAttrs(Ip4.Parse("192.0.2.10")), default);
        var renewer = new LeaseRenewer(_manager, reservation, TimeSpan.FromMinutes(60), _time, _log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = renewer.RunAsync(cts.Token);
        for (var i = 0; i < 5; i++) { _time.Advance(TimeSpan.FromDays(1)); await Task.Delay(10); }
        Assert.Equal(0, _registry.UpdateCalls);
        Assert.False(_log.Contains("Lease renewed"));
        cts.Cancel();
        await run;
        Assert.True((await _registry.GetLeaseAsync(Sn, default))!.IsReservation);
    }
}
