// The node checks against fakes: a healthy udp node passes everything, and each kind of breakage
// fails exactly the check that owns it, naming the offending value.
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Health;
using FlannelPS.Core.Host;
using FlannelPS.Core.Iptables;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlannelPS.Core.Tests.Health;

public sealed class NodeHealthCheckerTests : IDisposable
{
    private static readonly Ip4Net Network = Ip4Net.Parse("10.0.0.0/16");
    private static readonly Ip4Net Own = Ip4Net.Parse("10.0.5.0/24");
    private static readonly Ip4Net PeerA = Ip4Net.Parse("10.0.9.0/24");
    private static readonly Ip4Net PeerB = Ip4Net.Parse("10.0.42.0/24");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly InMemorySubnetRegistry _registry;
    private readonly RecordingHostNetwork _host = new();
    private readonly FakeIptables _iptables = new();
    private readonly FakePinger _pinger = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("fpop-health").FullName;
    private readonly string _subnetFile;

    public NodeHealthCheckerTests()
    {
        _registry = new InMemorySubnetRegistry(_time);
        _subnetFile = Path.Combine(_dir, "subnet.env");
        // A healthy udp node 10.0.5.0/24 on 192.0.2.11 with two peers.
        _registry.PutNetworkConfigAsync("{\"Network\":\"10.0.0.0/16\"}", default).Wait();
        _registry.PutRaw(Own, new LeaseAttrs(Ip4.Parse("192.0.2.11")), TimeSpan.FromHours(24));
        _registry.PutRaw(PeerA, new LeaseAttrs(Ip4.Parse("192.0.2.12")), TimeSpan.FromHours(24));
        _registry.PutRaw(PeerB, new LeaseAttrs(Ip4.Parse("192.0.2.13")), null);
        WriteEnv("FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.0.5.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
        _host.Links.Add(new HostLink("lo", true, 65536, [new HostAddress(Ip4.Parse("127.0.0.1"), 8)]));
        _host.Links.Add(new HostLink("eth0", true, 1500, [new HostAddress(Ip4.Parse("192.0.2.11"), 24)]));
        _host.Links.Add(new HostLink("flannel0", true, 1472, [new HostAddress(Ip4.Parse("10.0.5.0"), 32)]));
        _host.Links.Add(new HostLink("docker0", true, 1472, [new HostAddress(Ip4.Parse("10.0.5.1"), 24)]));
        _host.Routes.Add(new HostRoute(new Ip4Net(Ip4.Any, 0), "eth0", Ip4.Parse("192.0.2.1")));
        _host.Routes.Add(new HostRoute(Network, "flannel0", null));
        _host.Routes.Add(new HostRoute(Own, "docker0", null));
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("192.0.2.0/24"), "eth0", null));
        _iptables.Add(IptablesRules.Forward(Network));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void WriteEnv(string text) => File.WriteAllText(_subnetFile, text);

    private async Task<List<HealthCheckResult>> Run(Func<NodeHealthOptions, NodeHealthOptions>? tweak = null, IIptablesRunner? iptables = null)
    {
        var options = new NodeHealthOptions { SubnetFile = _subnetFile, ConfigKey = "/n/config", SubnetsPrefix = "/n/subnets/" };
        if (tweak is not null) options = tweak(options);
        var checker = new NodeHealthChecker(_registry, _host, iptables ?? _iptables, _pinger, _time);
        var list = new List<HealthCheckResult>();
        await foreach (var r in checker.RunAsync(options, default)) list.Add(r);
        return list;
    }

    private static HealthCheckResult One(List<HealthCheckResult> results, string name, string? target = null) =>
        Assert.Single(results, r => r.Name == name && (target is null || r.Target == target));

    private static void OnlyFailure(List<HealthCheckResult> results, string name, string? target = null)
    {
        var failed = results.Where(r => r.Status == HealthStatus.Fail).ToList();
        Assert.True(failed.Count == 1, "expected one failure, got: " + string.Join(" | ", failed.Select(f => $"{f.Name}: {f.Message}")));
        Assert.Equal(name, failed[0].Name);
        if (target is not null) Assert.Equal(target, failed[0].Target);
    }

    [Fact]
    public async Task Healthy_udp_node_passes_every_check_in_order()
    {
        var results = await Run();
        Assert.Equal(
        [
            "SubnetFile", "NetworkConfig", "SubnetFileNetwork", "Lease", "LeaseTtl", "LeaseRange", "Device", "DeviceMtu",
            "DeviceAddress", "NetworkRoute", "PeerRoute", "PeerRoute", "IptablesForward", "IptablesMasquerade", "PeerReachable",
        ], results.Select(r => r.Name));
        Assert.All(results.Where(r => r.Name is not ("IptablesMasquerade" or "PeerReachable")),
            r => Assert.True(r.Status == HealthStatus.Pass, $"{r.Name}: {r.Status} {r.Message}"));
        Assert.Equal(HealthStatus.Skip, One(results, "IptablesMasquerade").Status);
        Assert.Equal(HealthStatus.Skip, One(results, "PeerReachable").Status);
        Assert.Equal(["10.0.9.0/24", "10.0.42.0/24"], results.Where(r => r.Name == "PeerRoute").Select(r => r.Target));
        Assert.Equal("/n/subnets/10.0.5.0-24", One(results, "Lease").Target);
        Assert.Contains("1472 = FLANNEL_MTU = eth0 MTU 1500 − 28", One(results, "DeviceMtu").Message);
        Assert.Empty(_pinger.Sent);
    }

    [Fact]
    public async Task Missing_subnet_file_fails_once_and_skips_what_needs_it()
    {
        File.Delete(_subnetFile);
        var results = await Run();
        OnlyFailure(results, "SubnetFile", _subnetFile);
        Assert.Contains("does not exist", One(results, "SubnetFile").Message);
        Assert.Equal(HealthStatus.Skip, One(results, "Lease").Status);
        Assert.Equal(HealthStatus.Skip, One(results, "DeviceAddress").Status);
        Assert.Equal(HealthStatus.Skip, One(results, "PeerRoute").Status);
    }

    [Fact]
    public async Task Subnet_file_for_another_network_fails_naming_both()
    {
        WriteEnv("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.0.5.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
        var results = await Run();
        OnlyFailure(results, "SubnetFileNetwork");
        Assert.Contains("FLANNEL_NETWORK=10.1.0.0/16 but the etcd config says Network 10.0.0.0/16", One(results, "SubnetFileNetwork").Message);
    }

    [Fact]
    public async Task Subnet_file_with_a_subnet_nobody_leases_fails_the_lease_check()
    {
        WriteEnv("FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.0.77.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
        _host.Links[2] = _host.Links[2] with { Addresses = [new HostAddress(Ip4.Parse("10.0.77.0"), 32)] };
        _host.Routes[2] = new HostRoute(Ip4Net.Parse("10.0.77.0/24"), "docker0", null);
        var results = await Run();
        OnlyFailure(results, "Lease", "/n/subnets/10.0.77.0-24");
        Assert.Contains("No lease for FLANNEL_SUBNET 10.0.77.1/24", One(results, "Lease").Message);
        Assert.Equal(HealthStatus.Skip, One(results, "LeaseTtl").Status);
    }

    [Fact]
    public async Task Lease_held_by_another_public_ip_fails_with_minus_PublicIP_and_warns_without()
    {
        var results = await Run(o => o with { PublicIP = Ip4.Parse("192.0.2.99") });
        OnlyFailure(results, "Lease");
        Assert.Contains("held by PublicIP 192.0.2.11, not by this node's 192.0.2.99", One(results, "Lease").Message);

        _host.Links[1] = _host.Links[1] with { Addresses = [new HostAddress(Ip4.Parse("192.0.2.50"), 24)] };
        var warned = One(await Run(), "Lease");
        Assert.Equal(HealthStatus.Warning, warned.Status);
        Assert.Contains("192.0.2.11, which is not an address of this host", warned.Message);
    }

    [Fact]
    public async Task Lease_with_less_time_left_than_the_renew_margin_fails()
    {
        _time.Advance(TimeSpan.FromHours(23.5));
        var results = await Run();
        OnlyFailure(results, "LeaseTtl");
        Assert.Contains("00:30:00 left, less than the renew margin 01:00:00", One(results, "LeaseTtl").Message);
        // A smaller margin makes the same lease fine.
        Assert.Equal(HealthStatus.Pass, One(await Run(o => o with { RenewMargin = TimeSpan.FromMinutes(10) }), "LeaseTtl").Status);
    }

    [Fact]
    public async Task Reserved_own_subnet_passes_the_ttl_check()
    {
        _registry.PutRaw(Own, new LeaseAttrs(Ip4.Parse("192.0.2.11")), null);
        Assert.Contains("reservation", One(await Run(), "LeaseTtl").Message);
    }

    [Fact]
    public async Task Lease_outside_the_configured_range_fails_the_range_check()
    {
        await _registry.PutNetworkConfigAsync("{\"Network\":\"10.0.0.0/16\",\"SubnetMin\":\"10.0.10.0\"}", default);
        var results = await Run();
        var range = One(results, "LeaseRange");
        Assert.Equal(HealthStatus.Fail, range.Status);
        Assert.Contains("10.0.5.0/24 is outside the config (SubnetLen 24, 10.0.10.0..10.0.255.0)", range.Message);
    }

    [Fact]
    public async Task Wrong_device_mtu_fails_naming_both_values()
    {
        _host.Links[2] = _host.Links[2] with { Mtu = 1400 };
        var results = await Run();
        OnlyFailure(results, "DeviceMtu", "flannel0");
        Assert.Contains("flannel0 MTU is 1400 but subnet.env FLANNEL_MTU=1472", One(results, "DeviceMtu").Message);
    }

    [Fact]
    public async Task Mtu_that_does_not_fit_the_underlay_is_a_warning()
    {
        _host.Links[1] = _host.Links[1] with { Mtu = 9000 };
        var mtu = One(await Run(), "DeviceMtu");
        Assert.Equal(HealthStatus.Warning, mtu.Status);
        Assert.Contains("expected eth0 MTU 9000 − 28 = 8972", mtu.Message);
    }

    [Fact]
    public async Task Missing_or_down_device_fails()
    {
        _host.Links[2] = _host.Links[2] with { IsUp = false };
        OnlyFailure(await Run(), "Device", "flannel0");
        _host.Links.RemoveAt(2);
        var results = await Run();
        Assert.Contains("flannel0 does not exist", One(results, "Device").Message);
        Assert.Equal(HealthStatus.Skip, One(results, "DeviceMtu").Status);
    }

    [Fact]
    public async Task Wrong_device_address_fails_naming_what_is_there()
    {
        _host.Links[2] = _host.Links[2] with { Addresses = [new HostAddress(Ip4.Parse("10.0.5.0"), 16)] };
        var results = await Run();
        OnlyFailure(results, "DeviceAddress");
        Assert.Contains("flannel0 has 10.0.5.0/16, expected 10.0.5.0/32", One(results, "DeviceAddress").Message);
    }

    [Fact]
    public async Task Deleted_network_route_fails_it_and_every_peer_route()
    {
        _host.Routes.RemoveAt(1);
        var results = await Run();
        Assert.Equal(HealthStatus.Fail, One(results, "NetworkRoute").Status);
        Assert.Contains("Route 10.0.0.0/16 dev flannel0 is missing", One(results, "NetworkRoute").Message);
        var peer = One(results, "PeerRoute", "10.0.9.0/24");
        Assert.Equal(HealthStatus.Fail, peer.Status);
        Assert.Contains("routed by 'default via 192.0.2.1 dev eth0', expected dev flannel0", peer.Message);
    }

    [Fact]
    public async Task A_route_that_hijacks_one_peer_fails_only_that_peer()
    {
        _host.Routes.Add(new HostRoute(PeerA, null, null, "blackhole"));
        var results = await Run();
        OnlyFailure(results, "PeerRoute", "10.0.9.0/24");
        Assert.Contains("Peer 10.0.9.0/24 (192.0.2.12): routed by 'blackhole 10.0.9.0/24'", One(results, "PeerRoute", "10.0.9.0/24").Message);
        Assert.Equal(HealthStatus.Pass, One(results, "PeerRoute", "10.0.42.0/24").Status);
    }

    [Fact]
    public async Task A_more_specific_route_inside_a_peer_subnet_fails_that_peer()
    {
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.42.128/25"), "eth0", null));
        var results = await Run();
        OnlyFailure(results, "PeerRoute", "10.0.42.0/24");
        Assert.Contains("part of it is routed by '10.0.42.128/25 dev eth0'", One(results, "PeerRoute", "10.0.42.0/24").Message);
    }

    [Fact]
    public async Task No_other_leases_is_a_pass_with_no_peers()
    {
        await _registry.DeleteLeaseAsync(PeerA, default);
        await _registry.DeleteLeaseAsync(PeerB, default);
        Assert.Contains("No other leases", One(await Run(), "PeerRoute").Message);
    }

    [Fact]
    public async Task Deleted_forward_rule_fails_naming_the_rule()
    {
        _iptables.Remove(IptablesRules.Forward(Network)[2]);
        var results = await Run();
        OnlyFailure(results, "IptablesForward", "filter FLANNEL-FWD");
        Assert.Contains("Missing 1 of 3 rules: -t filter -A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
            One(results, "IptablesForward").Message);
        Assert.Equal(HealthStatus.Skip, One(await Run(o => o with { ForwardRules = false }), "IptablesForward").Status);
    }

    [Fact]
    public async Task Without_root_the_iptables_checks_are_skipped_saying_needs_root_never_failed()
    {
        var results = await Run(o => o with { IsRoot = false, IpMasq = true }, iptables: new ProcessIptablesRunner(executable: "/nonexistent/iptables"));
        foreach (var name in new[] { "IptablesForward", "IptablesMasquerade" })
        {
            var r = One(results, name);
            Assert.Equal(HealthStatus.Skip, r.Status);
            Assert.StartsWith("Needs root", r.Message);
        }
        Assert.DoesNotContain(results, r => r.Status == HealthStatus.Fail);
    }

    [Fact]
    public async Task Missing_iptables_tool_fails_the_rule_check_naming_it()
    {
        var results = await Run(iptables: new ProcessIptablesRunner(executable: "/nonexistent/iptables"));
        OnlyFailure(results, "IptablesForward", "filter FLANNEL-FWD");
        Assert.StartsWith("Cannot run '/nonexistent/iptables'", One(results, "IptablesForward").Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Masquerade_rules_are_expected_from_subnet_env_with_or_without_random_fully(bool randomFully)
    {
        WriteEnv("FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.0.5.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n");
        var rules = IptablesRules.Masquerade(Network, Own, randomFully);
        _iptables.Add(rules);
        Assert.Equal(HealthStatus.Pass, One(await Run(), "IptablesMasquerade").Status);
        _iptables.Remove(rules[5]);
        var results = await Run();
        OnlyFailure(results, "IptablesMasquerade", "nat FLANNEL-POSTRTG");
        Assert.Contains("-A FLANNEL-POSTRTG -s 10.0.0.0/16 ! -d 224.0.0.0/4", One(results, "IptablesMasquerade").Message);
        // -IpMasq:$false: not checked at all.
        Assert.Equal(HealthStatus.Skip, One(await Run(o => o with { IpMasq = false }), "IptablesMasquerade").Status);
    }

    [Fact]
    public async Task Ping_reaches_each_peer_overlay_address_and_stops_at_the_first_reply()
    {
        _pinger.Reachable.Add(Ip4.Parse("10.0.9.0"));
        var results = await Run(o => o with { Ping = true, PingCount = 3 });
        Assert.Equal(HealthStatus.Pass, One(results, "PeerReachable", "10.0.9.0/24").Status);
        var down = One(results, "PeerReachable", "10.0.42.0/24");
        Assert.Equal(HealthStatus.Fail, down.Status);
        Assert.Contains("10.0.42.0 (10.0.42.0/24 at 192.0.2.13) did not answer 3 echo request(s)", down.Message);
        // Bounded: one echo for the peer that answered, PingCount for the one that did not.
        Assert.Equal(["10.0.9.0", "10.0.42.0", "10.0.42.0", "10.0.42.0"], _pinger.Sent.Select(a => a.ToString()));
    }

    [Fact]
    public async Task Unreachable_etcd_fails_once_and_skips_what_needs_it()
    {
        _registry.BeforeCall = _ => throw new EtcdUnavailableException("memory://", "connection refused");
        var results = await Run();
        OnlyFailure(results, "NetworkConfig");
        Assert.Contains("etcd at memory:// is unavailable", One(results, "NetworkConfig").Message);
        Assert.All(results.Where(r => r.Name is "Lease" or "LeaseTtl" or "Device" or "PeerRoute" or "IptablesForward"),
            r => Assert.Equal(HealthStatus.Skip, r.Status));
    }

    [Fact]
    public async Task Missing_config_fails_with_flannels_message()
    {
        await _registry.DeleteNetworkConfigAsync(default);
        var results = await Run();
        OnlyFailure(results, "NetworkConfig", "/n/config");
        Assert.Contains(NetworkConfigNotFoundException.Text, One(results, "NetworkConfig").Message);
    }

    /// <summary>Turns the healthy udp node into a healthy vxlan node with one vxlan peer (A) and one udp peer (B).</summary>
    private void MakeVxlanNode()
    {
        _registry.PutNetworkConfigAsync("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}", default).Wait();
        var mac = MacAddress.Parse("0a:11:22:33:44:55");
        _registry.PutRaw(PeerA, new LeaseAttrs(Ip4.Parse("192.0.2.12"), "vxlan", Core.Backend.Vxlan.VxlanLeaseData.Format(1, mac)), TimeSpan.FromHours(24));
        WriteEnv("FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.0.5.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n");
        _host.Links[2] = new HostLink("flannel.1", true, 1450, [new HostAddress(Ip4.Parse("10.0.5.0"), 32)], "vxlan");
        _host.Routes.RemoveAt(1);
        _host.Routes.Add(new HostRoute(PeerA, "flannel.1", PeerA.Address) { OnLink = true });
        _host.Neighbours.Add(new HostNeighbour("flannel.1", PeerA.Address, mac));
        _host.Fdb.Add(new HostFdbEntry("flannel.1", mac, Ip4.Parse("192.0.2.12")));
    }

    [Fact]
    public async Task Healthy_vxlan_node_passes_and_a_peer_of_another_backend_is_skipped()
    {
        MakeVxlanNode();
        var results = await Run();
        Assert.DoesNotContain(results, r => r.Status == HealthStatus.Fail);
        Assert.Equal(HealthStatus.Pass, One(results, "PeerRoute", "10.0.9.0/24").Status);
        Assert.Equal(HealthStatus.Skip, One(results, "PeerRoute", "10.0.42.0/24").Status);
        Assert.Equal(HealthStatus.Skip, One(results, "NetworkRoute").Status);
        Assert.Contains("1450 = FLANNEL_MTU = eth0 MTU 1500 − 50", One(results, "DeviceMtu").Message);
    }

    [Fact]
    public async Task A_vxlan_peer_without_its_fdb_entry_fails_naming_it()
    {
        MakeVxlanNode();
        _host.Fdb.Clear();
        var results = await Run();
        OnlyFailure(results, "PeerRoute", "10.0.9.0/24");
        Assert.Contains("missing '0a:11:22:33:44:55 dst 192.0.2.12 dev flannel.1 self permanent'", One(results, "PeerRoute", "10.0.9.0/24").Message);
    }

    [Fact]
    public async Task Alloc_backend_has_no_datapath_to_check()
    {
        await _registry.PutNetworkConfigAsync("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"alloc\"}}", default);
        _host.Links.RemoveAt(2);
        var results = await Run(o => o with { Ping = true });
        Assert.DoesNotContain(results, r => r.Status == HealthStatus.Fail);
        Assert.All(results.Where(r => r.Name is "Device" or "PeerRoute" or "IptablesForward" or "PeerReachable"),
            r => Assert.Equal(HealthStatus.Skip, r.Status));
    }
}

public sealed class NodeDatapathTests
{
    private static NetworkConfig Config(string backend) => NetworkConfigParser.Parse($"{{\"Network\":\"10.0.0.0/16\",\"Backend\":{backend}}}");

    private static Lease Peer(string subnet, string ip) => new() { Subnet = Ip4Net.Parse(subnet), Attrs = new LeaseAttrs(Ip4.Parse(ip)), EtcdLeaseId = 1 };

    [Fact]
    public void Vxlan_device_is_named_after_the_vni_and_routes_each_peer_via_its_address_onlink()
    {
        var dp = NodeDatapath.For(Config("{\"Type\":\"vxlan\",\"vni\":7}"), null);
        Assert.Equal("flannel.7", dp.Device);
        Assert.Equal(50, dp.EncapOverhead);
        Assert.False(dp.HasNetworkRoute);
        var peer = Peer("10.0.9.0/24", "192.0.2.12");
        Assert.Null(dp.CheckPeerRoute(peer, new HostRoute(peer.Subnet, "flannel.7", Ip4.Parse("10.0.9.0"))));
        Assert.Contains("expected 10.0.9.0/24 via 10.0.9.0 dev flannel.7 onlink", dp.CheckPeerRoute(peer, new HostRoute(peer.Subnet, "flannel.7", null)));
        Assert.Equal("flannel.1", NodeDatapath.For(Config("{\"Type\":\"vxlan\"}"), null).Device);
    }

    [Fact]
    public void Host_gw_routes_each_peer_via_its_public_ip_and_pings_its_bridge()
    {
        var dp = NodeDatapath.For(Config("{\"Type\":\"host-gw\"}"), null);
        Assert.Null(dp.Device);
        var peer = Peer("10.0.9.0/24", "192.0.2.12");
        Assert.Null(dp.CheckPeerRoute(peer, new HostRoute(peer.Subnet, "eth0", Ip4.Parse("192.0.2.12"))));
        Assert.Contains("expected via 192.0.2.12", dp.CheckPeerRoute(peer, new HostRoute(peer.Subnet, "eth0", Ip4.Parse("192.0.2.99"))));
        Assert.Equal(Ip4.Parse("10.0.9.1"), dp.PeerOverlayAddress(peer));
    }
}

public sealed class RouteLookupTests
{
    [Fact]
    public void Finds_the_longest_prefix_among_routes_of_every_kind()
    {
        HostRoute[] routes =
        [
            new(Ip4Net.Parse("0.0.0.0/0"), "eth0", Ip4.Parse("192.0.2.1")),
            new(Ip4Net.Parse("10.0.0.0/16"), "flannel0", null),
            new(Ip4Net.Parse("10.0.5.0/24"), null, null, "blackhole"),
            new(Ip4Net.Parse("10.0.7.0/24"), "flannel.1", Ip4.Parse("10.0.7.0")) { OnLink = true },
            new(Ip4Net.Parse("192.0.2.9/32"), "eth0", null),
        ];
        Assert.Equal(["default via 192.0.2.1 dev eth0", "10.0.0.0/16 dev flannel0", "blackhole 10.0.5.0/24", "10.0.7.0/24 via 10.0.7.0 dev flannel.1 onlink", "192.0.2.9/32 dev eth0"],
            routes.Select(r => r.ToString()));
        Assert.Equal("10.0.0.0/16 dev flannel0", RouteLookup.Find(routes, Ip4.Parse("10.0.9.3"))!.ToString());
        Assert.Equal("blackhole 10.0.5.0/24", RouteLookup.Find(routes, Ip4.Parse("10.0.5.3"))!.ToString());
        Assert.Equal("default via 192.0.2.1 dev eth0", RouteLookup.Find(routes, Ip4.Parse("8.8.8.8"))!.ToString());
        Assert.Single(RouteLookup.Inside(routes, Ip4Net.Parse("10.0.0.0/16")), r => r.Destination.PrefixLength == 24 && r.Type == "blackhole");
    }
}
