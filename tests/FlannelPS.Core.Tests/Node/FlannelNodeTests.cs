// The node lifecycle in milliseconds: in-memory registry, alloc backend, a fixed interface.
// Real time drives it (the waits are short), so the node's own loops run as in production.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Alloc;
using FlannelPS.Core.Files;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Node;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Fakes;

namespace FlannelPS.Core.Tests.Node;

public sealed class FlannelNodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fpnode-unit").FullName;
    private readonly InMemorySubnetRegistry _registry = new(TimeProvider.System);
    private readonly ListLog _log = new();
    private readonly List<NodeEvent> _events = [];

    public void Dispose() => Directory.Delete(_dir, true);

    private string SubnetFile => Path.Combine(_dir, "subnet.env");

    private const string AllocConfig = "{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"alloc\"}}";

    /// <summary>Runs <paramref name="node"/> and waits, bounded, until it is ready; cancel the source to stop it.</summary>
    private static async Task<(CancellationTokenSource Cts, Task Run)> StartReadyAsync(FlannelNode node, TimeSpan? stopAfter = null)
    {
        var cts = stopAfter is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
        var run = node.RunAsync(cts.Token);
        await node.Ready.WaitAsync(TimeSpan.FromSeconds(5));
        return (cts, run);
    }

    /// <summary><paramref name="first"/>, or <paramref name="second"/> when the node happens to hold the first.</summary>
    private static Ip4Net SubnetOtherThan(Ip4Net own, string first, string second) =>
        Ip4Net.Parse(own.ToString() == first ? second : first);

    private FlannelNode NewNode(string publicIp = "192.0.2.10", bool masq = false, IBackend? backend = null, bool ownsRegistry = false,
        IHostNetwork? host = null, BackendRegistry? backends = null)
    {
        var iface = new ExternalInterface("eth0", 2, Ip4.Parse(publicIp), Ip4.Parse(publicIp), 1500);
        var node = new FlannelNode(
            new NodeOptions { SubnetFile = SubnetFile, IpMasq = masq, ConfigRetry = TimeSpan.FromMilliseconds(20), NotifySystemd = false },
            new NodeDependencies
            {
                Registry = _registry,
                OwnsRegistry = ownsRegistry,
                Backends = backends ?? new BackendRegistry().Add("alloc", () => backend ?? new AllocBackend()),
                ResolveInterface = _ => iface,
                Host = host,
                Log = _log,
            });
        node.EventRaised += e => { lock (_events) _events.Add(e); };
        return node;
    }

    private NodeEvent[] Events { get { lock (_events) return _events.ToArray(); } }

    [Fact]
    public async Task WaitsForConfigThenLeasesAndWritesSubnetEnv()
    {
        var node = NewNode(masq: true);
        using var cts = new CancellationTokenSource();
        var run = node.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => node.GetStatus().LastError is not null, "config error reported");
        Assert.Equal(NodeState.WaitingForConfig, node.State);
        Assert.Equal("flannel config not found in etcd store. Did you create your config using etcdv3 API?", node.GetStatus().LastError);
        Assert.False(File.Exists(SubnetFile));

        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        await node.Ready.WaitAsync(TimeSpan.FromSeconds(5));
        var status = node.GetStatus();
        Assert.Equal(NodeState.Running, status.State);
        var subnet = Ip4Net.Parse(status.Subnet!);
        Assert.Equal(
            $"FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET={subnet.Address.Add(1)}/24\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n",
            File.ReadAllText(SubnetFile));
        Assert.Single(Events, e => e.Kind == NodeEventKind.ConfigError);

        cts.Cancel();
        await run;
        Assert.Equal(NodeState.Stopped, node.State);
        Assert.NotNull(await _registry.GetLeaseAsync(subnet, default)); // the lease stays, as with flanneld
    }

    [Fact]
    public async Task Peers_already_in_etcd_are_routed_before_ready_and_not_added_again_by_the_watch()
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        var peer = Ip4Net.Parse("10.0.250.0/24");
        await _registry.CreateLeaseAsync(peer, new LeaseAttrs(Ip4.Parse("192.0.2.30")), TimeSpan.FromHours(24), default);
        var node = NewNode();
        var listings = 0;
        _registry.BeforeCall = op => { if (op == "GetLeases") Interlocked.Increment(ref listings); };
        var addedBeforeRunning = false;
        node.EventRaised += e =>
        {
            if (e.Kind == NodeEventKind.PeerAdded && node.State != NodeState.Running && !File.Exists(SubnetFile)) addedBeforeRunning = true;
        };
        var (cts, run) = await StartReadyAsync(node);
        using var stop = cts;
        Assert.True(addedBeforeRunning, "the peer was handed to the backend before subnet.env and Running");
        Assert.Equal(peer.ToString(), node.GetStatus().Peers.Single().Subnet);
        await Eventually.TrueAsync(() => _registry.ActiveWatches == 1, "the lease watch open");
        Assert.Single(Events, e => e.Kind == NodeEventKind.PeerAdded);
        // One listing to acquire the lease, one to route the known peers; the watch goes on from that
        // listing instead of listing (and reading every TTL) a third time.
        Assert.Equal(2, listings);
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task TracksPeersAndRetakesItsSubnetWhenTheLeaseIsDeleted()
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        var node = NewNode();
        var (cts, run) = await StartReadyAsync(node);
        using var stop = cts;
        var own = Ip4Net.Parse(node.GetStatus().Subnet!);

        var peer = SubnetOtherThan(own, "10.0.200.0/24", "10.0.201.0/24");
        await _registry.CreateLeaseAsync(peer, new LeaseAttrs(Ip4.Parse("192.0.2.20")), TimeSpan.FromHours(24), default);
        await Eventually.TrueAsync(() => node.GetStatus().Peers.Any(p => p.Subnet == peer.ToString()), "peer seen");
        Assert.Equal("192.0.2.20", node.GetStatus().Peers.Single().PublicIP);

        await _registry.DeleteLeaseAsync(own, default);
        await Eventually.TrueAsync(() => Events.Count(e => e.Kind == NodeEventKind.LeaseAcquired) == 2, "lease re-acquired");
        Assert.Contains(Events, e => e.Kind == NodeEventKind.LeaseLost && e.Message == "Lease has been revoked");
        Assert.Equal(own.ToString(), node.GetStatus().Subnet);
        Assert.NotNull(await _registry.GetLeaseAsync(own, default));
        Assert.Equal(NodeState.Running, node.State);

        await _registry.DeleteLeaseAsync(peer, default);
        await Eventually.TrueAsync(() => node.GetStatus().Peers.Count == 0, "peer removed");
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task A_peer_that_left_while_the_lease_was_being_retaken_is_removed_and_the_others_are_not_added_twice()
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        var node = NewNode();
        var (cts, run) = await StartReadyAsync(node);
        using var stop = cts;
        var own = Ip4Net.Parse(node.GetStatus().Subnet!);
        var leaving = SubnetOtherThan(own, "10.0.200.0/24", "10.0.201.0/24");
        var staying = SubnetOtherThan(own, "10.0.210.0/24", "10.0.211.0/24");
        await _registry.CreateLeaseAsync(leaving, new LeaseAttrs(Ip4.Parse("192.0.2.20")), TimeSpan.FromHours(24), default);
        await _registry.CreateLeaseAsync(staying, new LeaseAttrs(Ip4.Parse("192.0.2.21")), TimeSpan.FromHours(24), default);
        await Eventually.TrueAsync(() => node.GetStatus().Peers.Count == 2, "both peers seen");

        // The peer leaves while no watch runs: between losing the lease and taking it back.
        _registry.BeforeCreate = async subnet =>
        {
            if (subnet == own) await _registry.DeleteLeaseAsync(leaving, default);
        };
        await _registry.DeleteLeaseAsync(own, default);
        await Eventually.TrueAsync(() => Events.Count(e => e.Kind == NodeEventKind.LeaseAcquired) == 2, "lease re-acquired");

        await Eventually.TrueAsync(() => node.GetStatus().Peers.All(p => p.Subnet != leaving.ToString()), "the peer that left removed");
        Assert.Equal(staying.ToString(), node.GetStatus().Peers.Single().Subnet);
        Assert.Single(Events, e => e.Kind == NodeEventKind.PeerAdded && e.Message.Contains(staying.ToString()));
        cts.Cancel();
        await run;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Disposes_the_registry_on_stop_only_when_it_owns_it(bool owns)
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        var node = NewNode(ownsRegistry: owns);
        var (cts, run) = await StartReadyAsync(node);
        using var stop = cts;
        Assert.False(_registry.Disposed);
        cts.Cancel();
        await run;
        Assert.Equal(owns, _registry.Disposed);
    }

    [Fact]
    public async Task FailsClearlyWhenItsSubnetWasTakenByAnotherNode()
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        var node = NewNode();
        var (cts, run) = await StartReadyAsync(node, TimeSpan.FromSeconds(10));
        using var stop = cts;
        var own = Ip4Net.Parse(node.GetStatus().Subnet!);

        // Another node grabs the subnet between the delete and this node's attempt to take it back:
        // the rival's create runs inside the node's own GetLease call, so the order is fixed.
        var rival = 0;
        _registry.BeforeCall = op =>
        {
            if (op == "GetLease" && Interlocked.Exchange(ref rival, 1) == 0)
                _registry.CreateLeaseAsync(own, new LeaseAttrs(Ip4.Parse("192.0.2.99")), TimeSpan.FromHours(24), default).GetAwaiter().GetResult();
        };
        await _registry.DeleteLeaseAsync(own, default);
        var ex = await Assert.ThrowsAnyAsync<Errors.FlannelException>(() => run);
        Assert.Equal("FlannelSubnetTaken", ex.ErrorId);
        Assert.Contains(own.ToString(), ex.Message);
        Assert.Contains("192.0.2.99", ex.Message);
        Assert.Equal(NodeState.Failed, node.State);
    }

    [Fact]
    public async Task SaysStoppedOnlyAfterTheDatapathIsTornDown()
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        var backend = new StateRecordingBackend();
        var node = NewNode(backend: backend);
        backend.StateOf = () => node.State;
        var (cts, run) = await StartReadyAsync(node);
        using var stop = cts;
        cts.Cancel();
        await run;
        Assert.Equal(NodeState.Stopping, backend.StateAtDispose);
        var states = Events.Where(e => e.Kind == NodeEventKind.StateChanged).Select(e => e.Message).ToArray();
        Assert.Equal(["State: Stopping", "State: Stopped"], states[^2..]);
    }

    private sealed class StateRecordingBackend : IBackend
    {
        public Func<NodeState>? StateOf;
        public NodeState? StateAtDispose;
        public BackendDescription Description => AllocBackend.Descriptor;
        public Task<LeaseAttrs> PrepareAsync(BackendContext context, CancellationToken cancellationToken) => Task.FromResult(new LeaseAttrs(context.Interface.ExtAddr));
        public Task<IBackendNetwork> StartAsync(Lease lease, CancellationToken cancellationToken) =>
            Task.FromResult<IBackendNetwork>(new Network(this));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Network(StateRecordingBackend owner) : IBackendNetwork
        {
            public int Mtu => 1500;
            public Task RunAsync(CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
            public void HandleEvents(IReadOnlyList<LeaseEvent> events) { }
            public BackendStatistics GetStatistics() => BackendStatistics.Empty;
            public ValueTask DisposeAsync()
            {
                owner.StateAtDispose = owner.StateOf?.Invoke();
                return ValueTask.CompletedTask;
            }
        }
    }

    [Fact]
    public async Task A_node_removes_what_another_backend_left_on_the_host_and_keeps_its_own()
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        var host = new RecordingHostNetwork();
        host.Links.Add(new HostLink("eth0", true, 1500, []));
        host.Links.Add(new HostLink("flannel.1", true, 1450, [], "vxlan"));
        host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.9.0/24"), "eth0", Ip4.Parse("192.0.2.12")));
        host.Routes.Add(new HostRoute(Ip4Net.Parse("0.0.0.0/0"), "eth0", Ip4.Parse("192.0.2.1")));
        var backends = new BackendRegistry()
            .Add(AllocBackend.Kind)
            .Add(Core.Backend.Vxlan.VxlanBackend.Kind(host))
            .Add(Core.Backend.HostGw.HostGwBackend.Kind(host));
        var node = NewNode(host: host, backends: backends);
        var (cts, run) = await StartReadyAsync(node);
        using var stop = cts;
        Assert.Null(host.GetLink("flannel.1"));
        Assert.Equal(["default via 192.0.2.1 dev eth0"], host.Routes.Select(r => r.ToString()));
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task A_restarting_vxlan_node_keeps_its_peer_routes_and_removes_only_host_gw_leftovers()
    {
        await _registry.PutNetworkConfigAsync("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}", default);
        var peer = Ip4Net.Parse("10.0.9.0/24");
        await _registry.CreateLeaseAsync(peer, new LeaseAttrs(Ip4.Parse("192.0.2.12"), "vxlan",
            Core.Backend.Vxlan.VxlanLeaseData.Format(1, MacAddress.Parse("0a:11:22:33:44:55"))), TimeSpan.FromHours(24), default);
        var host = new RecordingHostNetwork();
        host.Links.Add(new HostLink("eth0", true, 1500, []) { Index = 2 });
        HostRoute[] Deleted() => host.Batches.SelectMany(b => b).Where(c => c.Kind == HostChangeKind.Delete).Select(c => c.Entry).OfType<HostRoute>().ToArray();
        FlannelNode Node() => NewNode(host: host, backends: new BackendRegistry()
            .Add(Core.Backend.Vxlan.VxlanBackend.Kind(host))
            .Add(Core.Backend.HostGw.HostGwBackend.Kind(host)));

        var (cts, run) = await StartReadyAsync(Node());
        await Eventually.TrueAsync(() => host.Routes.Any(r => r.Destination == peer), "the peer routed");
        cts.Cancel();
        await run;
        cts.Dispose();
        // What host-gw would have left: a route through a peer's PublicIP.
        host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.8.0/24"), "eth0", Ip4.Parse("192.0.2.13")));
        host.Batches.Clear();

        (cts, run) = await StartReadyAsync(Node());
        using var stop = cts;
        Assert.Equal(["10.0.8.0/24 via 192.0.2.13 dev eth0"], Deleted().Select(r => r.ToString()));
        Assert.Contains(host.Routes, r => r.ToString() == "10.0.9.0/24 via 10.0.9.0 dev flannel.1 onlink");
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task RefusesABackendItDoesNotRun()
    {
        await _registry.PutNetworkConfigAsync("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"ipip\"}}", default);
        var node = NewNode();
        var ex = await Assert.ThrowsAnyAsync<Errors.FlannelException>(() => node.RunAsync(CancellationToken.None));
        Assert.Equal("FlannelBackendNotSupported", ex.ErrorId);
        Assert.Contains("ipip", ex.Message);
        Assert.False(File.Exists(SubnetFile));
    }

    [Fact]
    public async Task ReusesTheSubnetFromAPreviousSubnetEnv()
    {
        await _registry.PutNetworkConfigAsync(AllocConfig, default);
        SubnetEnvFile.Write(SubnetFile, new SubnetEnv(Ip4Net.Parse("10.0.0.0/16"), Ip4Net.Parse("10.0.77.0/24"), 1500, false));
        var node = NewNode(publicIp: "192.0.2.55");
        var (cts, run) = await StartReadyAsync(node);
        using var stop = cts;
        Assert.Equal("10.0.77.0/24", node.GetStatus().Subnet);
        cts.Cancel();
        await run;
    }
}
