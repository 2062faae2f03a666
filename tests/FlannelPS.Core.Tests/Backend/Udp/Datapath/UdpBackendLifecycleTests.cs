// One host namespace: what StartNetworkAsync creates, and that DisposeAsync (or a failed start) removes it.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Config;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;
using FlannelPS.Core.Tests.Interop;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed class UdpBackendLifecycleTests
{
    private static TestNamespace Host(string suffix)
    {
        var ns = new TestNamespace(suffix);
        ns.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1").Ok("veth");
        ns.Ip("link", "set", "eth0", "mtu", "1400").Ok("mtu");
        ns.Ip("addr", "add", "192.0.2.10/24", "dev", "eth0").Ok("addr");
        ns.Ip("link", "set", "eth0", "up").Ok("up");
        ns.Ip("link", "set", "eth1", "up").Ok("up");
        return ns;
    }

    /// <summary>
    /// Asserts that flannel0 and the socket on port 8300 are gone. Waits up to 2 s: tests of other
    /// classes run in parallel in this process, and a child they start holds a copy of every fd
    /// between fork and exec, which can keep a just-closed TUN or socket alive for a moment. A real
    /// leak still fails.
    /// </summary>
    private static void AssertReleased(TestNamespace ns) =>
        Eventually.True(() => ns.Ip("link", "show", "flannel0").Code != 0 && !ns.Exec("ss", "-uln").Out.Contains("8300"),
            "flannel0 and the socket on port 8300 to be gone", 2_000);

    private static BackendNetworkContext Context(string backendJson = """{"Type":"udp","Port":8300}""")
    {
        var config = NetworkConfigParser.Parse($$"""{"Network":"10.0.0.0/16","Backend":{{backendJson}}}""");
        var lease = new Lease { Subnet = Ip4Net.Parse("10.0.5.0/24"), Attrs = new LeaseAttrs(Ip4.Parse("192.0.2.10")) };
        return new BackendNetworkContext(config, lease, ExternalInterfaceResolver.Resolve("eth0"), NullLog.Instance);
    }

    [Fact]
    public void Start_creates_flannel0_as_flannel_does_and_dispose_removes_device_and_route()
    {
        using var ns = Host("life");
        using var t = new NetnsThread(ns.Name);
        var net = t.Invoke(() => new UdpBackend().StartNetworkAsync(Context(), CancellationToken.None).GetAwaiter().GetResult());
        try
        {
            Assert.Equal(1372, net.Mtu);
            var link = ns.Ip("-o", "link", "show", "flannel0").Ok("link");
            Assert.Contains("mtu 1372", link.Out);
            Assert.Contains("UP", link.Out);
            Assert.Contains("inet 10.0.5.0/32", ns.Ip("-4", "-o", "addr", "show", "dev", "flannel0").Out);
            Assert.Contains("10.0.0.0/16 dev flannel0", ns.Ip("route", "show").Out);
            Assert.Equal("1", ns.Exec("cat", "/proc/sys/net/ipv6/conf/flannel0/disable_ipv6").Out.Trim());
            Assert.Contains("192.0.2.10:8300", ns.Exec("ss", "-uln").Out);
            // One TUN queue per lane: the main lane's, and one per CPU on a machine with two or more.
            var plan = ((UdpNetwork)net).Forwarder.Plan;
            Assert.Equal(Environment.ProcessorCount >= 2 ? Math.Min(Environment.ProcessorCount, 64) : 0, plan.CpuLanes);
            if (plan.CpuLanes > 0) Assert.Contains($"multi_queue numqueues {plan.Queues} ", ns.Ip("-d", "link", "show", "flannel0").Out);
            Assert.False(((UdpNetwork)net).Completion.IsCompleted);
        }
        finally
        {
            t.Invoke(() => net.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }
        AssertReleased(ns);
        Assert.DoesNotContain("10.0.0.0/16", ns.Ip("route", "show").Out);
        Assert.True(((UdpNetwork)net).Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public void With_cpu_lanes_off_one_thread_serves_a_single_queue_device_and_a_plain_socket()
    {
        using var ns = Host("onelane");
        using var t = new NetnsThread(ns.Name);
        var backend = new UdpBackend(tuning: new UdpDatapathTuning { CpuLanes = 0 });
        var net = (UdpNetwork)t.Invoke(() => backend.StartNetworkAsync(Context(), CancellationToken.None).GetAwaiter().GetResult());
        try
        {
            Assert.Same(LanePlan.MainLaneOnly, net.Forwarder.Plan);
            Assert.False(net.Forwarder.CpuLanesActive);
            Assert.DoesNotContain("multi_queue", ns.Ip("-d", "link", "show", "flannel0").Out);
            Assert.Single(ns.Exec("ss", "-Huln").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains(":8300"));
        }
        finally
        {
            t.Invoke(() => net.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }
        AssertReleased(ns);
    }

    [Fact]
    public void Without_CAP_BPF_the_node_runs_on_one_thread_and_says_why()
    {
        // A node in a container given NET_ADMIN but neither BPF nor SYS_ADMIN cannot load the
        // steering programs: it must still start, on flannel's single-thread design.
        using var ns = Host("nobpf");
        using var t = new NetnsThread(ns.Name);
        var log = new ListLog();
        var net = (UdpNetwork)t.Invoke(() =>
        {
            using (ThreadCapabilities.Drop(ThreadCapabilities.CAP_BPF, ThreadCapabilities.CAP_SYS_ADMIN))
                return new UdpBackend().StartNetworkAsync(Context() with { Log = log }, CancellationToken.None).GetAwaiter().GetResult();
        });
        try
        {
            if (Environment.ProcessorCount >= 2)
                Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("no CPU lanes (bpf(BPF_PROG_LOAD) failed: Operation not permitted"));
            Assert.Same(LanePlan.MainLaneOnly, net.Forwarder.Plan);
            Assert.DoesNotContain("multi_queue", ns.Ip("-d", "link", "show", "flannel0").Out);
            Assert.False(((UdpNetwork)net).Completion.IsCompleted);
        }
        finally
        {
            t.Invoke(() => net.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }
        AssertReleased(ns);
    }

    [Fact]
    public void A_failed_start_leaves_no_device_socket_or_route_behind()
    {
        using var ns = Host("fail");
        using var t = new NetnsThread(ns.Name);
        // A host seam that works for everything but adding addresses: start fails after the TUN exists.
        var host = new FailingAddressHost(new RtnetlinkHostNetwork());
        var ex = Assert.Throws<HostNetworkException>(() => t.Invoke(() =>
            new UdpBackend(host).StartNetworkAsync(Context(), CancellationToken.None).GetAwaiter().GetResult()));
        Assert.Contains("injected failure", ex.Message);
        AssertReleased(ns);
        // Nothing is held: a second start in the same namespace gets flannel0 again.
        var net = t.Invoke(() => new UdpBackend().StartNetworkAsync(Context(), CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(0, ns.Ip("link", "show", "flannel0").Code);
        t.Invoke(() => net.DisposeAsync().AsTask().GetAwaiter().GetResult());
    }

    /// <summary>The real kernel, except that AddAddress fails the way the kernel would refuse it.</summary>
    private sealed class FailingAddressHost(IHostNetwork inner) : IHostNetwork
    {
        public IReadOnlyList<HostLink> GetLinks() => inner.GetLinks();
        public HostLink? GetLink(string name) => inner.GetLink(name);
        public IReadOnlyList<HostRoute> GetRoutes() => inner.GetRoutes();
        public HostRoute? LookupRoute(Ip4 destination) => inner.LookupRoute(destination);
        public IReadOnlyList<HostNeighbour> GetNeighbours(string device) => inner.GetNeighbours(device);
        public IReadOnlyList<HostFdbEntry> GetFdbEntries(string device) => inner.GetFdbEntries(device);
        public VxlanLinkSpec? GetVxlan(string name) => inner.GetVxlan(name);
        public void AddVxlan(VxlanLinkSpec spec) => inner.AddVxlan(spec);
        public void AddBridge(string name) => inner.AddBridge(name);
        public bool DeleteLink(string name) => inner.DeleteLink(name);
        public void SetUp(string name) => inner.SetUp(name);
        public void SetMtu(string name, int mtu) => inner.SetMtu(name, mtu);
        public bool AddAddress(string device, HostAddress address) => throw new HostNetworkException("RTM_NEWADDR", $"{address} dev {device}", 1, "EPERM (injected failure)");
        public bool DeleteAddress(string device, HostAddress address) => inner.DeleteAddress(device, address);
        public IReadOnlyList<HostChangeResult> Apply(IReadOnlyList<HostChange> changes) => inner.Apply(changes);
    }

    [Fact]
    public void Port_in_use_fails_with_the_address_in_the_message()
    {
        using var ns = Host("port");
        using var t = new NetnsThread(ns.Name);
        var first = t.Invoke(() => new UdpBackend().StartNetworkAsync(Context(), CancellationToken.None).GetAwaiter().GetResult());
        try
        {
            var ex = Assert.ThrowsAny<IOException>(() => t.Invoke(() => new UdpBackend().StartNetworkAsync(Context(), CancellationToken.None).GetAwaiter().GetResult()));
            Assert.Contains("192.0.2.10:8300", ex.Message);
            Assert.NotEqual(0, ns.Ip("link", "show", "flannel1").Code);
        }
        finally
        {
            t.Invoke(() => first.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }
    }
}
