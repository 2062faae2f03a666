// vxlan and host-gw on the real kernel: two host namespaces on one veth link, each running the
// backend on its own namespace thread, programmed with the other's lease as the node would be.
// What the kernel shows must be what flannel HEAD makes, and traffic must cross.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.HostGw;
using FlannelPS.Core.Backend.Vxlan;
using FlannelPS.Core.Config;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using FlannelPS.Core.Tests.Interop;

namespace FlannelPS.Core.Tests.Backend;

public sealed class KernelBackendTests
{
    private sealed class Pair : IDisposable
    {
        public readonly TestNamespace A, B;
        public readonly NetnsThread Ta, Tb;

        public Pair(string tag)
        {
            A = new TestNamespace($"{tag}a");
            B = new TestNamespace($"{tag}b");
            A.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", B.Name).Ok("veth");
            A.Ip("addr", "add", "192.0.2.10/24", "dev", "eth0").Ok("addr a");
            B.Ip("addr", "add", "192.0.2.11/24", "dev", "eth0").Ok("addr b");
            A.Ip("link", "set", "eth0", "up").Ok("up a");
            B.Ip("link", "set", "eth0", "up").Ok("up b");
            Ta = new NetnsThread(A.Name);
            Tb = new NetnsThread(B.Name);
        }

        public void Dispose()
        {
            Ta.Dispose(); Tb.Dispose();
            A.Dispose(); B.Dispose();
        }
    }

    private static NetworkConfig Config(string backend) => NetworkConfigParser.Parse($$"""{"Network":"10.0.0.0/16","Backend":{{backend}}}""");

    private static Lease LeaseOf(string subnet, LeaseAttrs attrs) => new() { Subnet = Ip4Net.Parse(subnet), Attrs = attrs, EtcdLeaseId = 1 };

    /// <summary>Prepare + Start on the namespace's thread; returns the network and the lease the node would have written.</summary>
    private static (IBackend Backend, IBackendNetwork Network, Lease Lease) Start(NetnsThread t, Func<IBackend> create, NetworkConfig config, string subnet) =>
        t.Invoke(() =>
        {
            var backend = create();
            var iface = ExternalInterfaceResolver.Resolve("eth0");
            var attrs = backend.PrepareAsync(new BackendContext(config, iface, new ListLog()), default).GetAwaiter().GetResult();
            var lease = LeaseOf(subnet, attrs);
            return (backend, backend.StartAsync(lease, default).GetAwaiter().GetResult(), lease);
        });

    private static void Ping(TestNamespace from, string to) =>
        Eventually.True(() => from.Exec(10_000, "ping", "-n", "-c", "1", "-W", "1", to).Code == 0, $"ping {from.Name} -> {to}", 10_000);

    [Fact]
    public void Vxlan_nodes_program_what_flannel_does_and_carry_traffic_both_ways()
    {
        using var p = new Pair("vx");
        var config = Config("""{"Type":"vxlan"}""");
        var a = Start(p.Ta, () => new VxlanBackend(), config, "10.0.5.0/24");
        var b = Start(p.Tb, () => new VxlanBackend(), config, "10.0.6.0/24");
        p.Ta.Invoke(() => a.Network.HandleEvents([new LeaseEvent(LeaseEventType.Added, b.Lease)]));
        p.Tb.Invoke(() => b.Network.HandleEvents([new LeaseEvent(LeaseEventType.Added, a.Lease)]));

        var bMac = VxlanLeaseData.ParseVtepMac(b.Lease.Attrs.BackendData).ToString();
        var link = p.A.Ip("-d", "link", "show", "flannel.1").Ok("link").Out;
        Assert.Contains("mtu 1450", link);
        Assert.Contains("vxlan id 1 local 192.0.2.10 dev eth0", link);
        Assert.Contains("dstport 8472", link);
        Assert.Contains("nolearning", link);
        Assert.Contains(VxlanLeaseData.ParseVtepMac(a.Lease.Attrs.BackendData).ToString(), link);
        Assert.Contains("inet 10.0.5.0/32", p.A.Ip("-4", "addr", "show", "dev", "flannel.1").Out);
        Assert.Contains($"10.0.6.0 lladdr {bMac} PERMANENT", p.A.Ip("neigh", "show", "dev", "flannel.1").Out);
        Assert.Contains($"{bMac} dst 192.0.2.11 self permanent", p.A.Exec("bridge", "fdb", "show", "dev", "flannel.1").Out);
        Assert.Contains("10.0.6.0/24 via 10.0.6.0 dev flannel.1 onlink", p.A.Ip("route", "show").Out);

        Ping(p.A, "10.0.6.0");
        Ping(p.B, "10.0.5.0");

        // The peer goes away: all three entries go with it.
        p.Ta.Invoke(() => a.Network.HandleEvents([new LeaseEvent(LeaseEventType.Removed, b.Lease)]));
        Assert.DoesNotContain("10.0.6.0", p.A.Ip("route", "show").Out);
        Assert.DoesNotContain("10.0.6.0", p.A.Ip("neigh", "show", "dev", "flannel.1").Out);
        Assert.DoesNotContain(bMac, p.A.Exec("bridge", "fdb", "show", "dev", "flannel.1").Out);

        // A restart finds the device and keeps its MAC, so the lease it advertises does not change.
        p.Ta.Invoke(() => a.Network.DisposeAsync().AsTask().GetAwaiter().GetResult());
        var again = Start(p.Ta, () => new VxlanBackend(), config, "10.0.5.0/24");
        Assert.Equal(a.Lease.Attrs.BackendData, again.Lease.Attrs.BackendData);
    }

    [Fact]
    public void Host_gw_routes_each_peer_via_its_address_and_traffic_crosses()
    {
        using var p = new Pair("gw");
        var config = Config("""{"Type":"host-gw"}""");
        p.B.Ip("addr", "add", "10.0.6.1/32", "dev", "lo").Ok("b bridge stand-in");
        p.A.Ip("addr", "add", "10.0.5.1/32", "dev", "lo").Ok("a bridge stand-in");
        var a = Start(p.Ta, () => new HostGwBackend(), config, "10.0.5.0/24");
        var b = Start(p.Tb, () => new HostGwBackend(), config, "10.0.6.0/24");
        Assert.Equal(1500, a.Network.Mtu);
        p.Ta.Invoke(() => a.Network.HandleEvents([new LeaseEvent(LeaseEventType.Added, b.Lease)]));
        p.Tb.Invoke(() => b.Network.HandleEvents([new LeaseEvent(LeaseEventType.Added, a.Lease)]));
        Assert.Contains("10.0.6.0/24 via 192.0.2.11 dev eth0", p.A.Ip("route", "show").Out);
        Ping(p.A, "10.0.6.1");

        // Deleted by hand: the repair pass puts it back.
        p.A.Ip("route", "del", "10.0.6.0/24").Ok("route del");
        Assert.Equal(1, p.Ta.Invoke(() => ((KernelPeerNetwork)a.Network).Repair()));
        Assert.Contains("10.0.6.0/24 via 192.0.2.11 dev eth0", p.A.Ip("route", "show").Out);
    }
}
