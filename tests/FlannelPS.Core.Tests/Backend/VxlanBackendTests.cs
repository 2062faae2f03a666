// The vxlan backend against the recording host: the device and lease it makes before the lease, and
// the neighbour/FDB/route entries it keeps per peer, in flannel HEAD's order and shapes.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.HostGw;
using FlannelPS.Core.Backend.Vxlan;
using FlannelPS.Core.Config;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlannelPS.Core.Tests.Backend;

public sealed class VxlanBackendTests
{
    private static KernelPeerStatistics Kernel(IBackendNetwork n) => Assert.IsType<KernelPeerStatistics>(n.GetStatistics().Detail);

    private static readonly ExternalInterface Eth0 = new("eth0", 2, Ip4.Parse("192.0.2.10"), Ip4.Parse("192.0.2.10"), 1500);
    private static readonly Lease Own = new() { Subnet = Ip4Net.Parse("10.0.5.0/24"), Attrs = new LeaseAttrs(Eth0.ExtAddr, "vxlan"), EtcdLeaseId = 1 };
    private readonly RecordingHostNetwork _host = new();
    private readonly ListLog _log = new();

    public VxlanBackendTests()
    {
        _host.Links.Add(new HostLink("eth0", true, 1500, [new HostAddress(Eth0.IfaceAddr, 24)]) { Index = 2 });
    }

    private static NetworkConfig Config(string backend = """{"Type":"vxlan"}""") =>
        NetworkConfigParser.Parse($$"""{"Network":"10.0.0.0/16","Backend":{{backend}}}""");

    private async Task<(VxlanBackend Backend, LeaseAttrs Attrs)> PrepareAsync(string backend = """{"Type":"vxlan"}""", int seed = 7)
    {
        var b = new VxlanBackend(_host, random: new Random(seed));
        var attrs = await b.PrepareAsync(new BackendContext(Config(backend), Eth0, _log), default);
        return (b, attrs);
    }

    private async Task<VxlanNetwork> StartAsync(string backend = """{"Type":"vxlan"}""", TimeProvider? time = null)
    {
        var b = new VxlanBackend(_host, time, new Random(7));
        await b.PrepareAsync(new BackendContext(Config(backend), Eth0, _log), default);
        return (VxlanNetwork)await b.StartAsync(Own, default);
    }

    private static Lease Peer(int third, string publicIp, string mac, string type = "vxlan") => new()
    {
        Subnet = Ip4Net.Parse($"10.0.{third}.0/24"),
        Attrs = new LeaseAttrs(Ip4.Parse(publicIp), type, type == "vxlan" ? VxlanLeaseData.Format(1, MacAddress.Parse(mac)) : null),
        EtcdLeaseId = 1,
    };

    private static LeaseEvent Added(Lease l) => new(LeaseEventType.Added, l);
    private static LeaseEvent Removed(Lease l) => new(LeaseEventType.Removed, l);

    [Fact]
    public async Task Prepare_creates_flannel_1_as_flannel_does_and_advertises_its_mac_and_vni()
    {
        var (_, attrs) = await PrepareAsync();
        var dev = Assert.Single(_host.Vxlans.Values);
        Assert.Equal(new VxlanLinkSpec("flannel.1", 1, 2, Eth0.IfaceAddr, 8472, Learning: false, Gbp: false, 1450, dev.Mac), dev);
        Assert.True(dev.Mac.IsLocallyAdministeredUnicast);
        Assert.Equal("{\"PublicIP\":\"192.0.2.10\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"" + dev.Mac + "\"}}", attrs.ToJson());
    }

    [Fact]
    public async Task Config_keys_set_the_vni_port_gbp_and_mtu()
    {
        // MTU is the underlay's, as in flannel: the device is 50 bytes smaller.
        var (b, attrs) = await PrepareAsync("""{"Type":"vxlan","VNI":42,"Port":4789,"GBP":true,"MTU":9001}""");
        var dev = _host.Vxlans["flannel.42"];
        Assert.Equal((42, 4789, true, 8951), (dev.Vni, dev.Port, dev.Gbp, dev.Mtu));
        Assert.Contains("\"VNI\":42", attrs.BackendData);
        Assert.Equal("flannel.42", b.Description.Device);
        Assert.Equal(4789, b.Description.UdpPort);
    }

    [Theory]
    [InlineData("""{"Type":"vxlan","VNI":-1}""", "VNI")]
    [InlineData("""{"Type":"vxlan","VNI":16777216}""", "VNI")]
    [InlineData("""{"Type":"vxlan","Port":70000}""", "Port")]
    [InlineData("""{"Type":"vxlan","MTU":20}""", "MTU")]
    [InlineData("""{"Type":"vxlan","MTU":117}""", "MTU")]
    [InlineData("""{"Type":"vxlan","VNI":4294967297}""", "VNI 4294967297")]
    [InlineData("""{"Type":"vxlan","Port":4294975768}""", "Port 4294975768")]
    [InlineData("""{"Type":"vxlan","MTU":4294968796}""", "MTU 4294968796")]
    public void Bad_vxlan_keys_are_refused_naming_the_key(string backend, string key)
    {
        var ex = Assert.Throws<Errors.NetworkConfigInvalidException>(() => VxlanConfig.Parse(backend));
        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public async Task An_mtu_of_0_or_118_is_taken_118_being_the_least_that_leaves_the_device_68()
    {
        await PrepareAsync("""{"Type":"vxlan","MTU":0}""");
        Assert.Equal(1450, _host.Vxlans["flannel.1"].Mtu);
        await PrepareAsync("""{"Type":"vxlan","VNI":2,"MTU":118}""");
        Assert.Equal(68, _host.Vxlans["flannel.2"].Mtu);
    }

    [Fact]
    public async Task A_compatible_device_is_reused_with_its_mac_and_an_incompatible_one_recreated()
    {
        var mac = MacAddress.Parse("0a:00:00:00:00:01");
        _host.Vxlans["flannel.1"] = new VxlanLinkSpec("flannel.1", 1, 2, Eth0.IfaceAddr, 8472, false, false, 1400, mac);
        _host.Links.Add(new HostLink("flannel.1", true, 1400, [], "vxlan") { Mac = mac });
        var (_, attrs) = await PrepareAsync();
        Assert.Contains("0a:00:00:00:00:01", attrs.BackendData);
        Assert.DoesNotContain("AddVxlan flannel.1", _host.Calls);
        Assert.Contains("SetMtu flannel.1 1450", _host.Calls);

        _host.Vxlans["flannel.1"] = _host.Vxlans["flannel.1"] with { Port = 4789 };
        var (_, again) = await PrepareAsync(seed: 8);
        Assert.Contains("DeleteLink flannel.1", _host.Calls);
        Assert.DoesNotContain("0a:00:00:00:00:01", again.BackendData);
        Assert.Equal(8472, _host.Vxlans["flannel.1"].Port);
    }

    [Fact]
    public async Task A_backend_disposed_before_start_removes_the_device_it_created_but_never_one_it_reused()
    {
        var (b, _) = await PrepareAsync();
        await b.DisposeAsync();
        Assert.Null(_host.GetLink("flannel.1"));

        var (reusedOnce, _) = await PrepareAsync();
        await reusedOnce.StartAsync(Own, default);
        await reusedOnce.DisposeAsync();
        var (reused, _) = await PrepareAsync();
        await reused.DisposeAsync();
        Assert.NotNull(_host.GetLink("flannel.1"));
    }

    [Fact]
    public async Task Start_gives_the_device_only_its_lease_address_as_32_and_sets_it_up()
    {
        var (b, _) = await PrepareAsync();
        _host.AddAddress("flannel.1", new HostAddress(Ip4.Parse("10.0.77.0"), 16));
        var net = await b.StartAsync(Own, default);
        var link = _host.GetLink("flannel.1")!;
        Assert.True(link.IsUp);
        Assert.Equal([new HostAddress(Ip4.Parse("10.0.5.0"), 32)], link.Addresses);
        Assert.Equal(1450, net.Mtu);
    }

    [Fact]
    public async Task A_peer_gets_neighbour_then_fdb_then_the_onlink_route_and_removal_deletes_all_three_route_first()
    {
        var net = await StartAsync();
        var peer = Peer(9, "192.0.2.12", "0a:11:22:33:44:55");
        net.HandleEvents([Added(peer)]);
        var mac = MacAddress.Parse("0a:11:22:33:44:55");
        Assert.Equal([new HostNeighbour("flannel.1", Ip4.Parse("10.0.9.0"), mac)], _host.Neighbours);
        Assert.Equal([new HostFdbEntry("flannel.1", mac, Ip4.Parse("192.0.2.12"))], _host.Fdb);
        var route = Assert.Single(_host.Routes);
        Assert.Equal("10.0.9.0/24 via 10.0.9.0 dev flannel.1 onlink", route.ToString());
        // Three stages, one batch each: the route goes in only after its neighbour and FDB entry.
        Assert.Equal([typeof(HostNeighbour), typeof(HostFdbEntry), typeof(HostRoute)], _host.Batches.Select(b => Assert.Single(b).Entry.GetType()));

        _host.Batches.Clear();
        net.HandleEvents([Removed(peer)]);
        Assert.Empty(_host.Routes); Assert.Empty(_host.Neighbours); Assert.Empty(_host.Fdb);
        Assert.Equal([typeof(HostRoute), typeof(HostFdbEntry), typeof(HostNeighbour)], Assert.Single(_host.Batches).Select(c => c.Entry.GetType()));
    }

    [Fact]
    public async Task A_changed_vtep_mac_replaces_the_stale_entries()
    {
        var net = await StartAsync();
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "0a:11:22:33:44:55"))]);
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "0a:66:77:88:99:aa"))]);
        var mac = MacAddress.Parse("0a:66:77:88:99:aa");
        Assert.Equal(mac, Assert.Single(_host.Neighbours).Mac);
        Assert.Equal(mac, Assert.Single(_host.Fdb).Mac);
        Assert.Single(_host.Routes);
    }

    [Fact]
    public async Task A_peer_whose_fdb_entry_fails_keeps_no_neighbour_and_gets_no_route_until_repaired()
    {
        var net = await StartAsync();
        _host.FailWith = c => c.Entry is HostFdbEntry ? 22 : 0;
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "0a:11:22:33:44:55")), Added(Peer(10, "192.0.2.13", "0a:11:22:33:44:56"))]);
        Assert.Empty(_host.Neighbours); Assert.Empty(_host.Routes);
        Assert.True(_log.Contains("failed to replace"));
        Assert.Equal(2, Kernel(net).ProgramFailures);

        _host.FailWith = null;
        Assert.Equal(2, net.Repair());
        Assert.Equal(2, _host.Routes.Count);
        Assert.Equal(2, Kernel(net).ProgrammedPeers);
    }

    [Fact]
    public async Task Leases_of_another_backend_are_ignored_with_one_log_line()
    {
        var net = await StartAsync();
        var udp = Peer(9, "192.0.2.12", "", type: null!) with { Attrs = new LeaseAttrs(Ip4.Parse("192.0.2.12")) };
        net.HandleEvents([Added(udp)]);
        net.HandleEvents([Added(udp)]);
        Assert.Empty(_host.Batches);
        Assert.Equal(1, _log.Count("Ignoring non-vxlan subnet 10.0.9.0/24"));
    }

    [Fact]
    public async Task A_peer_that_switches_to_another_backend_loses_its_vxlan_entries()
    {
        var net = await StartAsync();
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "0a:11:22:33:44:55"))]);
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "", type: "host-gw"))]);
        Assert.Empty(_host.Routes); Assert.Empty(_host.Neighbours); Assert.Empty(_host.Fdb);
        Assert.Equal(0, Kernel(net).ProgrammedPeers);
    }

    [Fact]
    public async Task Our_own_lease_is_never_programmed()
    {
        var net = await StartAsync();
        net.HandleEvents([Added(Own with { Attrs = new LeaseAttrs(Eth0.ExtAddr, "vxlan", VxlanLeaseData.Format(1, MacAddress.Parse("0a:00:00:00:00:09"))) })]);
        Assert.Empty(_host.Batches);
    }

    [Fact]
    public async Task With_direct_routing_a_peer_on_the_same_segment_gets_a_host_gw_route_instead()
    {
        _host.Routes.Add(new HostRoute(Ip4Net.Parse("192.0.2.0/24"), "eth0", null));
        var net = await StartAsync("""{"Type":"vxlan","DirectRouting":true}""");
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "0a:11:22:33:44:55")), Added(Peer(10, "198.51.100.7", "0a:11:22:33:44:56"))]);
        Assert.Contains(_host.Routes, r => r.ToString() == "10.0.9.0/24 via 192.0.2.12 dev eth0");
        Assert.Contains(_host.Routes, r => r.ToString() == "10.0.10.0/24 via 10.0.10.0 dev flannel.1 onlink");
        Assert.Equal([Ip4.Parse("10.0.10.0")], _host.Neighbours.Select(n => n.Address));
    }

    [Fact]
    public async Task Five_hundred_leases_at_once_cost_one_batch_per_stage()
    {
        var net = await StartAsync();
        var peers = Enumerable.Range(0, 500).Select(i => Added(new Lease
        {
            Subnet = new Ip4Net(Ip4.Parse("10.1.0.0").Add(i << 8), 24),
            Attrs = new LeaseAttrs(Ip4.Parse("198.51.100.1").Add(i % 250), "vxlan", VxlanLeaseData.Format(1, new MacAddress(0x0a0000000000UL + (ulong)i))),
            EtcdLeaseId = 1,
        })).ToList();
        net.HandleEvents(peers);
        Assert.Equal(3, _host.Batches.Count);
        Assert.All(_host.Batches, b => Assert.Equal(500, b.Count));
        Assert.Equal(500, _host.Routes.Count);
        _host.Batches.Clear();
        net.HandleEvents(peers.Select(p => Removed(p.Lease)).ToList());
        Assert.Single(_host.Batches);
        Assert.Empty(_host.Routes); Assert.Empty(_host.Fdb); Assert.Empty(_host.Neighbours);
    }

    [Fact]
    public async Task A_deleted_device_is_recreated_with_the_same_mac_and_its_peers_programmed_again()
    {
        var time = new FakeTimeProvider();
        var net = await StartAsync(time: time);
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "0a:11:22:33:44:55"))]);
        var mac = _host.Vxlans["flannel.1"].Mac;
        using var cts = new CancellationTokenSource();
        var run = net.RunAsync(cts.Token);
        _host.DeleteLink("flannel.1");
        Assert.Empty(_host.Routes);
        time.Advance(TimeSpan.FromSeconds(1));
        Eventually.True(() => _host.Routes.Count == 1, "the peer route back on the recreated device");
        Assert.Equal(mac, _host.Vxlans["flannel.1"].Mac);
        Assert.True(_host.GetLink("flannel.1")!.IsUp);
        Assert.Single(_host.Neighbours); Assert.Single(_host.Fdb);
        Assert.Equal(1, Kernel(net).DeviceRecreations);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task A_route_deleted_by_hand_is_back_within_ten_seconds()
    {
        var time = new FakeTimeProvider();
        var net = await StartAsync(time: time);
        net.HandleEvents([Added(Peer(9, "192.0.2.12", "0a:11:22:33:44:55"))]);
        using var cts = new CancellationTokenSource();
        var run = net.RunAsync(cts.Token);
        _host.Routes.Clear();
        Thread.Sleep(50); // the loop is waiting on its first device check
        time.Advance(TimeSpan.FromSeconds(10));
        Eventually.True(() => _host.Routes.Count == 1, "the route repaired");
        Assert.Single(_host.Neighbours);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public void Leftovers_are_the_flannel_vxlan_devices_only()
    {
        _host.Links.Add(new HostLink("flannel.1", true, 1450, [], "vxlan"));
        _host.Links.Add(new HostLink("flannel.7", true, 1450, [], "vxlan"));
        _host.Links.Add(new HostLink("vx0", true, 1450, [], "vxlan"));
        _host.Links.Add(new HostLink("flannel.1x", true, 1450, [], "bridge"));
        VxlanBackend.RemoveLeftovers(_host, Config(), HostGwBackend.Descriptor, _log);
        Assert.Equal(["eth0", "vx0", "flannel.1x"], _host.Links.Select(l => l.Name));
    }
}
