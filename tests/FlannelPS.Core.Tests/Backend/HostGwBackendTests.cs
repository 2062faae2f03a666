// The host-gw backend against the recording host: flannel's NAT refusal, one route per peer via
// its PublicIP on the underlay, replacement of a route through another gateway, repair.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.HostGw;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlannelPS.Core.Tests.Backend;

public sealed class HostGwBackendTests
{
    private static KernelPeerStatistics Kernel(IBackendNetwork n) => Assert.IsType<KernelPeerStatistics>(n.GetStatistics().Detail);

    private static readonly ExternalInterface Eth0 = new("eth0", 2, Ip4.Parse("192.0.2.10"), Ip4.Parse("192.0.2.10"), 1500);
    private static readonly Lease Own = new() { Subnet = Ip4Net.Parse("10.0.5.0/24"), Attrs = new LeaseAttrs(Eth0.ExtAddr, "host-gw"), EtcdLeaseId = 1 };
    private static readonly NetworkConfig Config = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/16","Backend":{"Type":"host-gw"}}""");
    private readonly RecordingHostNetwork _host = new();
    private readonly ListLog _log = new();

    public HostGwBackendTests() => _host.Links.Add(new HostLink("eth0", true, 1500, [new HostAddress(Eth0.IfaceAddr, 24)]) { Index = 2 });

    private async Task<KernelPeerNetwork> StartAsync(TimeProvider? time = null)
    {
        var b = new HostGwBackend(_host, time);
        var attrs = await b.PrepareAsync(new BackendContext(Config, Eth0, _log), default);
        Assert.Equal("""{"PublicIP":"192.0.2.10","PublicIPv6":null,"BackendType":"host-gw"}""", attrs.ToJson());
        return (KernelPeerNetwork)await b.StartAsync(Own, default);
    }

    private static Lease Peer(int third, string ip, string? type = "host-gw") =>
        new() { Subnet = Ip4Net.Parse($"10.0.{third}.0/24"), Attrs = new LeaseAttrs(Ip4.Parse(ip), type), EtcdLeaseId = 1 };

    [Fact]
    public async Task Refuses_a_public_ip_that_is_not_the_interface_address_with_flannels_text()
    {
        var natted = Eth0 with { ExtAddr = Ip4.Parse("198.51.100.9") };
        var ex = await Assert.ThrowsAsync<FlannelException>(() => new HostGwBackend(_host).PrepareAsync(new BackendContext(Config, natted, _log), default));
        Assert.Equal("your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend", ex.Message);
        Assert.Empty(_host.Calls);
    }

    [Fact]
    public async Task Each_peer_is_routed_via_its_public_ip_on_the_underlay_with_the_underlay_mtu()
    {
        var net = await StartAsync();
        Assert.Equal(1500, net.Mtu);
        net.HandleEvents([new(LeaseEventType.Added, Peer(9, "192.0.2.12")), new(LeaseEventType.Added, Peer(10, "192.0.2.13"))]);
        Assert.Equal(["10.0.9.0/24 via 192.0.2.12 dev eth0", "10.0.10.0/24 via 192.0.2.13 dev eth0"], _host.Routes.Select(r => r.ToString()));
        Assert.Single(_host.Batches);
        net.HandleEvents([new(LeaseEventType.Removed, Peer(9, "192.0.2.12"))]);
        Assert.Equal(["10.0.10.0/24 via 192.0.2.13 dev eth0"], _host.Routes.Select(r => r.ToString()));
    }

    [Fact]
    public async Task A_route_to_the_same_subnet_through_another_gateway_is_replaced()
    {
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.9.0/24"), "eth0", Ip4.Parse("192.0.2.99")));
        var net = await StartAsync();
        net.HandleEvents([new(LeaseEventType.Added, Peer(9, "192.0.2.12"))]);
        Assert.Equal(["10.0.9.0/24 via 192.0.2.12 dev eth0"], _host.Routes.Select(r => r.ToString()));
    }

    [Fact]
    public async Task A_peer_that_moves_where_its_route_cannot_go_keeps_no_route_and_its_removal_leaves_none()
    {
        var net = await StartAsync();
        net.HandleEvents([new(LeaseEventType.Added, Peer(9, "192.0.2.12"))]);
        // The new PublicIP is off this segment: the kernel refuses the route (ENETUNREACH).
        _host.FailWith = c => c.Kind == HostChangeKind.Replace && c.Entry is HostRoute { Gateway: var gw } && gw == Ip4.Parse("198.51.100.12") ? 101 : 0;
        net.HandleEvents([new(LeaseEventType.Added, Peer(9, "198.51.100.12"))]);
        Assert.Empty(_host.Routes); // not the old route through 192.0.2.12, which no longer leads to the peer
        Assert.Equal(0, Kernel(net).ProgrammedPeers);
        _host.FailWith = null;
        net.HandleEvents([new(LeaseEventType.Removed, Peer(9, "198.51.100.12"))]);
        Assert.Empty(_host.Routes);
    }

    [Fact]
    public async Task Leases_of_other_backends_are_ignored()
    {
        var net = await StartAsync();
        net.HandleEvents([new(LeaseEventType.Added, Peer(9, "192.0.2.12", type: null)), new(LeaseEventType.Added, Peer(10, "192.0.2.13", type: "vxlan"))]);
        Assert.Empty(_host.Routes);
        Assert.Equal(2, _log.Count("Ignoring non-host-gw subnet"));
    }

    [Fact]
    public async Task A_missing_route_is_re_added_within_ten_seconds()
    {
        var time = new FakeTimeProvider();
        var net = await StartAsync(time);
        net.HandleEvents([new(LeaseEventType.Added, Peer(9, "192.0.2.12"))]);
        using var cts = new CancellationTokenSource();
        var run = net.RunAsync(cts.Token);
        _host.Routes.Clear();
        time.Advance(TimeSpan.FromSeconds(9));
        Thread.Sleep(50);
        Assert.Empty(_host.Routes);
        time.Advance(TimeSpan.FromSeconds(1));
        Eventually.True(() => _host.Routes.Count == 1, "the route repaired");
        Assert.Equal(1, Kernel(net).RepairedPeers);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public void Leftovers_are_gateway_routes_of_the_networks_subnets()
    {
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.9.0/24"), "eth0", Ip4.Parse("192.0.2.12")));
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.0.0/16"), "flannel0", null));
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("0.0.0.0/0"), "eth0", Ip4.Parse("192.0.2.1")));
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("10.9.9.0/24"), "eth0", Ip4.Parse("192.0.2.12")));
        // vxlan's peer route: its gateway is the peer's subnet address, inside the Network.
        _host.Links.Add(new HostLink("flannel.1", true, 1450, [], "vxlan"));
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.7.0/24"), "flannel.1", Ip4.Parse("10.0.7.0")) { OnLink = true });
        HostGwBackend.RemoveLeftovers(_host, Config, Starting("""{"Type":"vxlan"}"""), _log);
        Assert.Equal(["10.0.0.0/16 dev flannel0", "default via 192.0.2.1 dev eth0", "10.9.9.0/24 via 192.0.2.12 dev eth0", "10.0.7.0/24 via 10.0.7.0 dev flannel.1 onlink"],
            _host.Routes.Select(r => r.ToString()));
    }

    [Fact]
    public void A_vxlan_node_with_direct_routing_keeps_the_host_gw_shaped_routes_it_programs_itself()
    {
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.9.0/24"), "eth0", Ip4.Parse("192.0.2.12")));
        HostGwBackend.RemoveLeftovers(_host, Config, Starting("""{"Type":"vxlan","DirectRouting":true}"""), _log);
        Assert.Single(_host.Routes);
        HostGwBackend.RemoveLeftovers(_host, Config, Starting("""{"Type":"udp"}"""), _log);
        Assert.Empty(_host.Routes);
    }

    private static BackendDescription Starting(string backend)
    {
        var config = NetworkConfigParser.Parse($$"""{"Network":"10.0.0.0/16","Backend":{{backend}}}""");
        return BackendRegistry.Default.Get(config.BackendType).Describe(config.BackendJson);
    }
}
