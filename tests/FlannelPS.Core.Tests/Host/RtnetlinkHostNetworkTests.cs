// RtnetlinkHostNetwork against the real kernel, in a namespace this test creates: what it writes is
// read back both through itself and through iproute2 (`ip -j`, `bridge -j`), so an encoding mistake
// shows up as a difference from what the kernel reports to the standard tools.
using System.Diagnostics;
using System.Text.Json;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Tests.Interop;
using Xunit.Abstractions;

namespace FlannelPS.Core.Tests.Host;

public sealed class RtnetlinkHostNetworkTests : IDisposable
{
    private static readonly MacAddress VtepMac = MacAddress.Parse("02:11:22:33:44:55");
    private readonly TestNamespace _ns;
    private readonly NetnsThread _thread;
    private readonly RtnetlinkHostNetwork _host = new();

    private readonly ITestOutputHelper _output;

    public RtnetlinkHostNetworkTests(ITestOutputHelper output)
    {
        _output = output;
        _ns = new TestNamespace("nl" + Guid.NewGuid().ToString("N")[..6]);
        try
        {
            _ns.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1").Ok("veth");
            _ns.Ip("addr", "add", "192.0.2.10/24", "dev", "eth0").Ok("addr");
            _ns.Ip("link", "set", "eth0", "up").Ok("up");
            _ns.Ip("link", "set", "eth1", "up").Ok("up");
            _thread = new NetnsThread(_ns.Name);
        }
        catch
        {
            _ns.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _thread.Dispose();
        _ns.Dispose();
    }

    private T On<T>(Func<IHostNetwork, T> f) => _thread.Invoke(() => f(_host));
    private void On(Action<IHostNetwork> f) => _thread.Invoke(() => f(_host));

    private JsonElement Json(string tool, params string[] args)
    {
        var r = Sh.Run(tool, ["-n", _ns.Name, "-j", .. args]).Ok($"{tool} -j {string.Join(' ', args)}");
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(r.Out) ? "[]" : r.Out);
        return doc.RootElement.Clone();
    }

    private int EthIndex => Json("ip", "link", "show", "eth0")[0].GetProperty("ifindex").GetInt32();

    private VxlanLinkSpec Flannel1(int mtu = 1350) => new("flannel.1", 1, EthIndex, Ip4.Parse("192.0.2.10"), 8472, Learning: false, Gbp: false, mtu, VtepMac);

    /// <summary>flannel.1 up with its /32, as the vxlan backend leaves it.</summary>
    private void UpFlannel1()
    {
        var spec = Flannel1();
        On(h => { h.AddVxlan(spec); h.AddAddress("flannel.1", new HostAddress(Ip4.Parse("10.0.1.0"), 32)); h.SetUp("flannel.1"); });
    }

    [Fact]
    public void A_vxlan_device_reads_back_as_created_through_the_seam_and_through_ip()
    {
        var spec = Flannel1() with { Vni = 7, Gbp = true };
        On(h => h.AddVxlan(spec));

        Assert.Equal(spec, On(h => h.GetVxlan("flannel.1")));
        var ip = Json("ip", "-d", "link", "show", "flannel.1")[0];
        var data = ip.GetProperty("linkinfo").GetProperty("info_data");
        Assert.Equal("vxlan", ip.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal(7, data.GetProperty("id").GetInt32());
        Assert.Equal("192.0.2.10", data.GetProperty("local").GetString());
        Assert.Equal("eth0", data.GetProperty("link").GetString());
        Assert.Equal(8472, data.GetProperty("port").GetInt32());
        Assert.False(data.GetProperty("learning").GetBoolean());
        Assert.True(data.GetProperty("gbp").GetBoolean());
        Assert.Equal("02:11:22:33:44:55", ip.GetProperty("address").GetString());
        Assert.Equal(1350, ip.GetProperty("mtu").GetInt32());

        var link = On(h => h.GetLink("flannel.1"))!;
        Assert.Equal("vxlan", link.Kind);
        Assert.Equal(ip.GetProperty("ifindex").GetInt32(), link.Index);
        Assert.Equal(VtepMac, link.Mac);
        Assert.False(link.IsUp);
    }

    [Fact]
    public void A_vxlan_device_with_learning_the_default_port_and_no_gbp_reads_back_so()
    {
        var spec = new VxlanLinkSpec("vx9", 9, 0, Ip4.Any, 0, Learning: true, Gbp: false, 1400, MacAddress.Parse("02:00:00:00:00:09"));
        On(h => h.AddVxlan(spec));
        var back = On(h => h.GetVxlan("vx9"))!;
        Assert.Equal(spec with { Port = 8472 }, back); // no dstport: the kernel's default, 8472
        var data = Json("ip", "-d", "link", "show", "vx9")[0].GetProperty("linkinfo").GetProperty("info_data");
        Assert.True(data.GetProperty("learning").GetBoolean());
        Assert.False(data.TryGetProperty("gbp", out _));
        Assert.Null(On(h => h.GetVxlan("eth0"))); // not a vxlan device
        var dup = Assert.Throws<HostNetworkException>(() => On(h => h.AddVxlan(Flannel1() with { Name = "vx9" })));
        Assert.Equal("RTM_NEWLINK vx9 type vxlan id 1 dev eth0 local 192.0.2.10 dstport 8472 nolearning address 02:11:22:33:44:55 mtu 1350: EEXIST (File exists)", dup.Message);
        Assert.Null(On(h => h.GetVxlan("nosuch0")));
    }

    [Fact]
    public void Links_addresses_up_and_mtu_match_ip()
    {
        On(h => h.AddBridge("br9"));
        Assert.True(On(h => h.AddAddress("br9", new HostAddress(Ip4.Parse("10.0.5.1"), 24))));
        Assert.False(On(h => h.AddAddress("br9", new HostAddress(Ip4.Parse("10.0.5.1"), 24)))); // already there
        On(h => { h.SetMtu("br9", 1450); h.SetUp("br9"); });

        var ip = Json("ip", "addr", "show", "br9")[0];
        Assert.Equal(1450, ip.GetProperty("mtu").GetInt32());
        Assert.Contains("UP", ip.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains(ip.GetProperty("addr_info").EnumerateArray(), a => a.GetProperty("local").GetString() == "10.0.5.1" && a.GetProperty("prefixlen").GetInt32() == 24);

        var links = On(h => h.GetLinks());
        var br = Assert.Single(links, l => l.Name == "br9");
        Assert.Equal(("bridge", 1450, true), (br.Kind, br.Mtu, br.IsUp));
        Assert.Equal([new HostAddress(Ip4.Parse("10.0.5.1"), 24)], br.Addresses);
        Assert.Equal([new HostAddress(Ip4.Parse("192.0.2.10"), 24)], links.Single(l => l.Name == "eth0").Addresses);
        Assert.Equal("veth", links.Single(l => l.Name == "eth0").Kind);
        Assert.Null(links.Single(l => l.Name == "lo").Kind);

        Assert.True(On(h => h.DeleteAddress("br9", new HostAddress(Ip4.Parse("10.0.5.1"), 24))));
        Assert.False(On(h => h.DeleteAddress("br9", new HostAddress(Ip4.Parse("10.0.5.1"), 24))));
        Assert.True(On(h => h.DeleteLink("br9")));
        Assert.False(On(h => h.DeleteLink("br9")));
        Assert.Null(On(h => h.GetLink("br9")));
    }

    [Fact]
    public void Errors_name_the_message_the_object_and_the_errno()
    {
        On(h => h.AddBridge("br9"));
        var exists = Assert.Throws<HostNetworkException>(() => On(h => h.AddBridge("br9")));
        Assert.Equal("RTM_NEWLINK br9 type bridge: EEXIST (File exists)", exists.Message);
        Assert.Equal(17, exists.Errno);

        var nodev = Assert.Throws<HostNetworkException>(() => On(h => h.SetMtu("nosuch0", 1400)));
        Assert.Contains("nosuch0", nodev.Message);
        Assert.Contains("ENODEV", nodev.Message);
        var noaddr = Assert.Throws<HostNetworkException>(() => On(h => h.AddAddress("nosuch0", new HostAddress(Ip4.Parse("10.0.5.1"), 24))));
        Assert.Equal("RTM_NEWADDR 10.0.5.1/24 dev nosuch0: ENODEV (No such device)", noaddr.Message);
    }

    [Fact]
    public void Without_CAP_NET_ADMIN_reads_work_and_every_change_fails_with_EPERM_as_permission_denied()
    {
        UpFlannel1();
        const int CAP_NET_ADMIN = 12;
        var changes = Peers(500);
        var (links, ex, results) = _thread.Invoke(() =>
        {
            using (ThreadCapabilities.Drop(CAP_NET_ADMIN))
            {
                var links = _host.GetLinks();
                var ex = Assert.Throws<HostNetworkException>(() => _host.AddBridge("br9"));
                return (links, ex, _host.Apply(changes));
            }
        });
        Assert.Contains(links, l => l.Name == "flannel.1");
        Assert.Equal(FlannelPS.Core.Errors.FlannelErrorCategory.PermissionDenied, ex.Category);
        Assert.Equal("RTM_NEWLINK br9 type bridge: EPERM (Operation not permitted)", ex.Message);
        // 1500 error acks, none lost to the receive buffer (that would be ENOBUFS).
        Assert.All(results, r => Assert.Equal(1, r.Errno));
        Assert.Empty(On(h => h.GetFdbEntries("flannel.1")));
    }

    [Fact]
    public void A_route_via_an_unreachable_gateway_fails_with_ENETUNREACH_and_a_missing_delete_with_not_found()
    {
        var route = new HostRoute(Ip4Net.Parse("10.0.9.0/24"), "eth0", Ip4.Parse("198.51.100.1"));
        var results = On(h => h.Apply([HostChange.Add(route), HostChange.Delete(new HostRoute(Ip4Net.Parse("10.0.8.0/24"), "eth0", null)),
            HostChange.Add(new HostRoute(Ip4Net.Parse("10.0.7.0/24"), "nosuch0", null))]));
        Assert.Equal(101, results[0].Errno);
        Assert.StartsWith("ENETUNREACH (Network is unreachable)", results[0].Error);
        Assert.True(results[1].IsNotFound, results[1].Error);
        Assert.Equal(19, results[2].Errno);
        Assert.Contains("nosuch0", results[2].Error);

        var ex = Assert.Throws<HostNetworkException>(() => On(h => h.ApplyOrThrow([HostChange.Add(route)])));
        Assert.StartsWith("RTM_NEWROUTE 10.0.9.0/24 via 198.51.100.1 dev eth0: ENETUNREACH (Network is unreachable)", ex.Message);
        Assert.Equal(101, ex.Errno);
        Assert.Empty(Json("ip", "route", "show", "10.0.9.0/24").EnumerateArray());
    }

    [Fact]
    public void Vxlan_peer_entries_are_written_replaced_and_removed_as_ip_and_bridge_see_them()
    {
        UpFlannel1();
        var peerMac = MacAddress.Parse("02:00:00:00:00:05");
        var neigh = new HostNeighbour("flannel.1", Ip4.Parse("10.0.5.0"), peerMac);
        var fdb = new HostFdbEntry("flannel.1", peerMac, Ip4.Parse("192.0.2.20"));
        var route = new HostRoute(Ip4Net.Parse("10.0.5.0/24"), "flannel.1", Ip4.Parse("10.0.5.0")) { OnLink = true };
        var results = On(h => h.Apply([HostChange.Add(neigh), HostChange.Add(fdb), HostChange.Add(route)]));
        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));

        var ipRoute = Assert.Single(Json("ip", "route", "show", "10.0.5.0/24").EnumerateArray());
        Assert.Equal("10.0.5.0", ipRoute.GetProperty("gateway").GetString());
        Assert.Equal("flannel.1", ipRoute.GetProperty("dev").GetString());
        Assert.Contains("onlink", ipRoute.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var ipNeigh = Assert.Single(Json("ip", "neigh", "show", "dev", "flannel.1").EnumerateArray());
        Assert.Equal(("10.0.5.0", "02:00:00:00:00:05"), (ipNeigh.GetProperty("dst").GetString(), ipNeigh.GetProperty("lladdr").GetString()));
        Assert.Contains("PERMANENT", ipNeigh.GetProperty("state").EnumerateArray().Select(s => s.GetString()));
        var br = Assert.Single(Json("bridge", "fdb", "show", "dev", "flannel.1").EnumerateArray());
        Assert.Equal(("02:00:00:00:00:05", "192.0.2.20", "permanent"), (br.GetProperty("mac").GetString(), br.GetProperty("dst").GetString(), br.GetProperty("state").GetString()));
        Assert.Contains("self", br.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        Assert.Contains(route, On(h => h.GetRoutes()));
        Assert.Equal([neigh], On(h => h.GetNeighbours("flannel.1")));
        Assert.Equal([fdb], On(h => h.GetFdbEntries("flannel.1")));
        var looked = On(h => h.LookupRoute(Ip4.Parse("10.0.5.7")))!;
        Assert.Equal(("flannel.1", Ip4.Parse("10.0.5.0")), (looked.Device, looked.Gateway));

        // An add of what exists is EEXIST; replace overwrites (the peer moved to another host).
        Assert.True(On(h => h.Apply([HostChange.Add(route)]))[0].IsExists);
        var moved = fdb with { Destination = Ip4.Parse("192.0.2.30") };
        var rerouted = route with { Gateway = Ip4.Parse("10.0.5.1") };
        results = On(h => h.Apply([HostChange.Replace(moved), HostChange.Replace(rerouted)]));
        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal("192.0.2.30", Assert.Single(Json("bridge", "fdb", "show", "dev", "flannel.1").EnumerateArray()).GetProperty("dst").GetString());
        Assert.Equal("10.0.5.1", Assert.Single(Json("ip", "route", "show", "10.0.5.0/24").EnumerateArray()).GetProperty("gateway").GetString());

        results = On(h => h.Apply([HostChange.Delete(rerouted), HostChange.Delete(neigh), HostChange.Delete(moved)]));
        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Empty(Json("ip", "route", "show", "10.0.5.0/24").EnumerateArray());
        Assert.Empty(Json("ip", "neigh", "show", "dev", "flannel.1").EnumerateArray());
        Assert.Empty(Json("bridge", "fdb", "show", "dev", "flannel.1").EnumerateArray());
        results = On(h => h.Apply([HostChange.Delete(rerouted), HostChange.Delete(neigh), HostChange.Delete(moved)]));
        Assert.All(results, r => Assert.True(r.IsNotFound, $"{r.Change}: {r.Error}"));
    }

    [Fact]
    public void GetRoutes_reads_the_main_table_with_route_types_as_ip_names_them()
    {
        _ns.Ip("route", "add", "10.0.40.0/24", "via", "192.0.2.1", "table", "100").Ok("table 100 route");
        var blackhole = new HostRoute(Ip4Net.Parse("10.0.50.0/24"), null, null, "blackhole");
        On(h => h.ApplyOrThrow([HostChange.Add(blackhole), HostChange.Add(new HostRoute(Ip4Net.Parse("0.0.0.0/0"), "eth0", Ip4.Parse("192.0.2.1")))]));
        var routes = On(h => h.GetRoutes());
        Assert.Contains(blackhole, routes);
        Assert.Contains(new HostRoute(Ip4Net.Parse("192.0.2.0/24"), "eth0", null), routes); // the kernel's connected route
        Assert.Contains("default via 192.0.2.1 dev eth0", routes.Select(r => r.ToString()));
        Assert.DoesNotContain(routes, r => r.Destination == Ip4Net.Parse("10.0.40.0/24")); // table 100
        Assert.DoesNotContain(routes, r => r.Type == "local"); // the local table
        Assert.Equal("blackhole", Json("ip", "route", "show", "10.0.50.0/24")[0].GetProperty("type").GetString());
        Assert.True(On(h => h.Apply([HostChange.Delete(blackhole)]))[0].Succeeded);
    }

    [Fact]
    public void LookupRoute_answers_like_ip_route_get()
    {
        var direct = On(h => h.LookupRoute(Ip4.Parse("192.0.2.20")))!;
        Assert.Equal(("eth0", (Ip4?)null, "unicast"), (direct.Device, direct.Gateway, direct.Type));
        Assert.Equal(Ip4.Parse("192.0.2.10"), direct.Source); // what --iface-can-reach takes as the interface address
        Assert.Equal(Ip4Net.Parse("192.0.2.20/32"), direct.Destination);
        Assert.Equal("local", On(h => h.LookupRoute(Ip4.Parse("192.0.2.10")))!.Type);
        Assert.Null(On(h => h.LookupRoute(Ip4.Parse("198.51.100.5")))); // no default route here
        On(h => h.ApplyOrThrow([HostChange.Add(new HostRoute(Ip4Net.Parse("198.51.100.0/24"), "eth0", Ip4.Parse("192.0.2.1")))]));
        var via = On(h => h.LookupRoute(Ip4.Parse("198.51.100.5")))!;
        Assert.Equal(("eth0", (Ip4?)Ip4.Parse("192.0.2.1")), (via.Device, via.Gateway));
    }

    private static List<HostChange> Peers(int count)
    {
        var changes = new List<HostChange>();
        for (int p = 0; p < count; p++)
        {
            var subnet = Ip4.Parse("10.1.0.0").Add(p * 256L);
            var mac = new MacAddress(0x02_00_00_00_00_00UL + (ulong)p + 1);
            changes.Add(HostChange.Replace(new HostNeighbour("flannel.1", subnet, mac)));
            changes.Add(HostChange.Replace(new HostFdbEntry("flannel.1", mac, Ip4.Parse("198.51.100.0").Add(p % 250 + 1))));
            changes.Add(HostChange.Replace(new HostRoute(new Ip4Net(subnet, 24), "flannel.1", subnet) { OnLink = true }));
        }
        return changes;
    }

    [Fact]
    public void A_batch_larger_than_one_send_goes_in_chunks_and_every_ack_finds_its_change()
    {
        UpFlannel1();
        var chunked = new RtnetlinkHostNetwork { MaxMessagesPerSend = 100 };
        var changes = Peers(100);
        // One bad change in the middle of the second chunk: its ack, and only its, carries the error.
        changes.Insert(150, HostChange.Add(new HostRoute(Ip4Net.Parse("10.9.0.0/24"), "eth0", Ip4.Parse("198.51.100.1"))));
        var (results, sends) = _thread.Invoke(() => (chunked.Apply(changes), chunked.LastApplySendCalls));
        Assert.Equal(4, sends); // 301 messages, 100 per sendmsg
        Assert.Equal(changes, results.Select(r => r.Change));
        Assert.Equal(101, results[150].Errno);
        Assert.All(results.Where((_, i) => i != 150), r => Assert.True(r.Succeeded, $"{r.Change}: {r.Error}"));
        Assert.Equal(100, On(h => h.GetFdbEntries("flannel.1")).Count);
    }

    [Fact]
    public void Five_hundred_peers_are_programmed_and_removed_in_one_round_trip_each_way_under_a_second()
    {
        UpFlannel1();
        var changes = Peers(500);
        var sw = Stopwatch.StartNew();
        var (results, sends) = _thread.Invoke(() => (_host.Apply(changes), _host.LastApplySendCalls));
        var programmed = sw.Elapsed;
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Change}: {r.Error}"));
        Assert.Equal(1, sends);
        Assert.Equal(500, On(h => h.GetNeighbours("flannel.1")).Count);
        Assert.Equal(500, Json("bridge", "fdb", "show", "dev", "flannel.1").GetArrayLength());
        Assert.Equal(500, On(h => h.GetFdbEntries("flannel.1")).Count);
        Assert.Equal(500, Json("ip", "route", "show", "dev", "flannel.1").EnumerateArray().Count(r => r.TryGetProperty("gateway", out _)));
        Assert.Equal(500, On(h => h.GetRoutes()).Count(r => r.Device == "flannel.1" && r.OnLink));

        var deletes = changes.Select(c => HostChange.Delete(c.Entry)).Reverse().ToList();
        sw.Restart();
        (results, sends) = _thread.Invoke(() => (_host.Apply(deletes), _host.LastApplySendCalls));
        var removed = sw.Elapsed;
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Change}: {r.Error}"));
        Assert.Equal(1, sends);
        Assert.Empty(On(h => h.GetNeighbours("flannel.1")));
        Assert.Empty(On(h => h.GetFdbEntries("flannel.1")));
        Assert.DoesNotContain(Json("ip", "route", "show", "dev", "flannel.1").EnumerateArray(), r => r.TryGetProperty("gateway", out _));
        _output.WriteLine($"1500 changes applied in {programmed.TotalMilliseconds:F1} ms, removed in {removed.TotalMilliseconds:F1} ms");
        Assert.True(programmed < TimeSpan.FromSeconds(1), $"1500 changes took {programmed.TotalMilliseconds:F0} ms to apply");
        Assert.True(removed < TimeSpan.FromSeconds(1), $"1500 deletes took {removed.TotalMilliseconds:F0} ms");
    }
}
