// One flannel node: the lifecycle flanneld runs, as a reusable object. Start order follows
// flannel HEAD: config (retried every second) → interface → backend → lease → iptables → routes
// for the peers already in etcd → subnet.env → READY=1 → peer watch + renewal, until cancelled.
// Losing its own lease re-acquires in place.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Node;

public sealed class FlannelNode
{
    private readonly NodeOptions _options;
    private readonly NodeDependencies _deps;
    private readonly ILog _log;
    private readonly object _gate = new();
    private readonly Dictionary<Ip4Net, Lease> _peers = new();
    private NodeStatus _status;
    private IBackendNetwork? _network;

    public FlannelNode(NodeOptions options, NodeDependencies dependencies)
    {
        _options = options;
        _deps = dependencies;
        _log = dependencies.Log;
        _status = new NodeStatus { State = NodeState.NotStarted, SubnetFile = options.SubnetFile };
    }

    /// <summary>Raised for state changes and lease/peer events, on the node's own threads.</summary>
    public event Action<NodeEvent>? EventRaised;

    public NodeState State { get { lock (_gate) return _status.State; } }

    /// <summary>Completes once subnet.env is written and the datapath runs (or faults if start fails).</summary>
    public Task Ready => _ready.Task;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NodeStatus GetStatus()
    {
        NodeStatus s;
        Lease[] peers;
        IBackendNetwork? network;
        lock (_gate)
        {
            s = _status;
            peers = _peers.Values.ToArray();
            network = _network;
        }
        var stats = network?.GetStatistics() ?? BackendStatistics.Empty;
        var bySubnet = stats.Peers.ToDictionary(p => p.Subnet, StringComparer.Ordinal);
        var infos = peers
            .OrderBy(p => p.Subnet.Address)
            .Select(p =>
            {
                bySubnet.TryGetValue(p.Subnet.ToString(), out var c);
                return new PeerInfo(p.Subnet.ToString(), p.Attrs.PublicIP.ToString(), p.Expiration,
                    c?.TxPackets ?? 0, c?.TxBytes ?? 0, c?.RxPackets ?? 0, c?.RxBytes ?? 0);
            })
            .ToArray();
        return s with { Peers = infos, Statistics = stats };
    }

    /// <summary>Runs the node until <paramref name="cancellationToken"/> is cancelled. Throws on fatal errors.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        UpdateStatus(s => s with { StartedAt = _deps.Time.GetUtcNow() });
        HealthzServer? healthz = null;
        try
        {
            if (_options.HealthzEndpoint is { } endpoint)
            {
                healthz = new HealthzServer(endpoint.Address, endpoint.Port, () => State == NodeState.Running);
                healthz.Start();
                _log.Info($"Serving /healthz on {healthz.LocalEndpoint}");
            }
            await RunCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ready.TrySetCanceled(cancellationToken);
        }
        catch (Exception ex)
        {
            UpdateStatus(s => s with { LastError = ex.Message });
            SetState(NodeState.Failed);
            _log.Error(ex.Message);
            _ready.TrySetException(ex);
            throw;
        }
        finally
        {
            // Stopped is said only once the TUN and its routes are really gone.
            var failed = State == NodeState.Failed;
            if (!failed) SetState(NodeState.Stopping);
            await StopNetworkAsync().ConfigureAwait(false);
            if (healthz is not null) await healthz.DisposeAsync().ConfigureAwait(false);
            if (_deps.OwnsRegistry) await _deps.Registry.DisposeAsync().ConfigureAwait(false);
            if (!failed) SetState(NodeState.Stopped);
        }
    }

    private async Task RunCoreAsync(CancellationToken ct)
    {
        var manager = new SubnetManager(_deps.Registry, _deps.Random, _log);
        var config = await WaitForConfigAsync(manager, ct).ConfigureAwait(false);
        var kind = _deps.Backends.Get(config.BackendType);
        var description = kind.Describe(config.BackendJson);
        description.EnsureHostPrerequisites(HostPrerequisites.EffectiveUid);

        var iface = _deps.ResolveInterface(_options);
        UpdateStatus(s => s with { Interface = iface.Name, PublicIP = iface.ExtAddr.ToString(), BackendType = description.Type, Network = config.Network.ToString() });
        RemoveOtherBackendsLeftovers(kind, description, config);

        var previous = SubnetEnvFile.Read(_options.SubnetFile);
        IBackendNetwork network;
        Lease lease;
        LeaseAttrs attrs;
        // Until the network runs, the backend owns what it prepared (vxlan's device) and removes it on failure.
        await using (var backend = kind.Create())
        {
            attrs = await backend.PrepareAsync(new BackendContext(config, iface, _log), ct).ConfigureAwait(false);
            SetState(NodeState.AcquiringLease);
            lease = await manager.AcquireLeaseAsync(config, attrs, previous?.PreviousSubnet, ct).ConfigureAwait(false);
            OnLeaseAcquired(lease);
            network = await backend.StartAsync(lease, ct).ConfigureAwait(false);
        }
        lock (_gate) _network = network;
        UpdateStatus(s => s with { Mtu = network.Mtu });

        using var trafficCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var traffic = _deps.CreateTrafficRules?.Invoke(config, description, lease, _options, previous, _log);
        Task trafficTask = Task.CompletedTask;
        if (traffic is not null)
        {
            await traffic.ApplyAsync(ct).ConfigureAwait(false);
            trafficTask = traffic.RunResyncAsync(trafficCts.Token);
        }

        // The peers already in etcd are routed before READY=1: Docker's containers (and a restarted
        // node's traffic) reach them the moment the node is ready. The watch continues from this view.
        var peers = new LeaseWatcher(lease.Subnet, _log);
        var listedAt = await LoadKnownPeersAsync(peers, network, ct).ConfigureAwait(false);

        WriteSubnetFile(config, lease, network.Mtu);
        SetState(NodeState.Running);
        if (_options.NotifySystemd && SystemdNotifier.Notify("READY=1", log: _log)) _log.Info("Notified systemd: READY=1");
        _ready.TrySetResult();

        try
        {
            await RunLeaseLoopsAsync(manager, config, attrs, lease, network, peers, listedAt, ct).ConfigureAwait(false);
        }
        finally
        {
            trafficCts.Cancel();
            try { await trafficTask.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
    }

    private async Task<NetworkConfig> WaitForConfigAsync(SubnetManager manager, CancellationToken ct)
    {
        SetState(NodeState.WaitingForConfig);
        string? lastError = null;
        while (true)
        {
            try
            {
                return await manager.GetNetworkConfigAsync(ct).ConfigureAwait(false);
            }
            catch (FlannelException ex) when (ex is NetworkConfigNotFoundException or NetworkConfigInvalidException or EtcdUnavailableException)
            {
                var message = $"Couldn't fetch network config: {ex.Message}";
                if (message != lastError)
                {
                    _log.Warning(message);
                    Raise(NodeEventKind.ConfigError, message);
                    UpdateStatus(s => s with { LastError = ex.Message });
                    lastError = message;
                }
            }
            await Task.Delay(_options.ConfigRetry, _deps.Time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Routes the peers already in etcd; the store revision of that listing (null when it failed: the watch then lists again).</summary>
    private async Task<long?> LoadKnownPeersAsync(LeaseWatcher peers, IBackendNetwork network, CancellationToken ct)
    {
        try
        {
            var snapshot = await _deps.Registry.GetLeasesAsync(ct).ConfigureAwait(false);
            var events = peers.Reset(snapshot.Leases);
            if (events.Count > 0) OnPeerEvents(events, network);
            return snapshot.Revision;
        }
        catch (FlannelException ex) when (!ct.IsCancellationRequested)
        {
            _log.Warning($"Listing the peers before start failed: {ex.Message}; the lease watch retries");
            return null;
        }
    }

    /// <summary>Keeps the lease renewed and the peer table current; re-acquires a revoked lease.</summary>
    private async Task RunLeaseLoopsAsync(SubnetManager manager, NetworkConfig config, LeaseAttrs attrs, Lease lease, IBackendNetwork network,
        LeaseWatcher peers, long? listedAt, CancellationToken ct)
    {
        using var runCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var datapath = network.RunAsync(runCts.Token);
        try
        {
            await RunLeaseLoopsCoreAsync(manager, config, attrs, lease, network, peers, listedAt, datapath, ct).ConfigureAwait(false);
        }
        finally
        {
            runCts.Cancel();
            await IgnoreCancellation(datapath).ConfigureAwait(false);
        }
    }

    private async Task RunLeaseLoopsCoreAsync(SubnetManager manager, NetworkConfig config, LeaseAttrs attrs, Lease lease, IBackendNetwork network,
        LeaseWatcher peers, long? listedAt, Task datapath, CancellationToken ct)
    {
        // One view of the peers for the node's life (a re-taken lease keeps its subnet), first filled
        // before ready. The first watch goes on from that listing's revision; a later one (after the
        // lease was re-taken) lists again and diffs its snapshot against the view.
        while (true)
        {
            using var leaseCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var renewer = new LeaseRenewer(manager, lease, _options.RenewMargin, _deps.Time, _log);
            renewer.Renewed += OnLeaseRenewed;
            var watch = new PeerLeaseWatch(_deps.Registry, peers,
                events => OnPeerEvents(events, network),
                own =>
                {
                    if (own is null) lost.TrySetResult();
                    else renewer.Update(own);
                },
                _deps.Time, _log) { StartRevision = listedAt };
            listedAt = null;
            var renewTask = renewer.RunAsync(leaseCts.Token);
            var watchTask = watch.RunAsync(leaseCts.Token);
            var done = await Task.WhenAny(lost.Task, renewTask, watchTask, datapath).ConfigureAwait(false);
            leaseCts.Cancel();
            await IgnoreCancellation(renewTask).ConfigureAwait(false);
            await IgnoreCancellation(watchTask).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();

            if (done == datapath)
            {
                await datapath.ConfigureAwait(false); // rethrows a datapath fault
                throw new FlannelException("FlannelDatapathStopped", FlannelErrorCategory.InvalidOperation, "the datapath stopped unexpectedly", lease.Subnet.ToString());
            }
            if (done != lost.Task) await done.ConfigureAwait(false); // a loop faulted: surface it

            // Own lease gone (deleted or expired): say so and take it back in place.
            _log.Warning("Lease has been revoked");
            Raise(NodeEventKind.LeaseLost, "Lease has been revoked", lease.Subnet.ToString(), lease.Attrs.PublicIP.ToString());
            SetState(NodeState.Reacquiring);
            lease = await ReacquireAsync(manager, config, attrs, lease.Subnet, ct).ConfigureAwait(false);
            OnLeaseAcquired(lease);
            SetState(NodeState.Running);
        }
    }

    private async Task<Lease> ReacquireAsync(SubnetManager manager, NetworkConfig config, LeaseAttrs attrs, Ip4Net subnet, CancellationToken ct)
    {
        var holder = await _deps.Registry.GetLeaseAsync(subnet, ct).ConfigureAwait(false);
        if (holder is not null && holder.Attrs.PublicIP != attrs.PublicIP)
            throw new FlannelException("FlannelSubnetTaken", FlannelErrorCategory.ResourceExists,
                $"Lease has been revoked and subnet {subnet} is now held by {holder.Attrs.PublicIP}; restart the node (and Docker) to get a new subnet.", subnet.ToString());
        var lease = await manager.AcquireLeaseAsync(config, attrs, subnet, ct).ConfigureAwait(false);
        if (lease.Subnet != subnet)
            throw new FlannelException("FlannelSubnetChanged", FlannelErrorCategory.ResourceExists,
                $"Lease has been revoked and subnet {subnet} could not be taken back (got {lease.Subnet}); restart the node (and Docker).", subnet.ToString());
        return lease;
    }

    /// <summary>A host switching backends: what the others left (flannel.1, host-gw routes) would misroute this one's traffic.</summary>
    private void RemoveOtherBackendsLeftovers(BackendKind current, BackendDescription starting, NetworkConfig config)
    {
        if (_deps.Host is not { } host) return;
        foreach (var other in _deps.Backends.Kinds)
        {
            if (other.Type == current.Type || other.RemoveLeftovers is null) continue;
            try { other.RemoveLeftovers(host, config, starting, _log); }
            catch (FlannelException ex) { _log.Warning($"could not remove what an earlier {other.Type} node left: {ex.Message}"); }
        }
    }

    private void OnPeerEvents(IReadOnlyList<LeaseEvent> events, IBackendNetwork network)
    {
        lock (_gate)
        {
            foreach (var e in events)
            {
                if (e.Type == LeaseEventType.Added) _peers[e.Lease.Subnet] = e.Lease;
                else _peers.Remove(e.Lease.Subnet);
            }
        }
        network.HandleEvents(events);
        foreach (var e in events)
        {
            var added = e.Type == LeaseEventType.Added;
            Raise(added ? NodeEventKind.PeerAdded : NodeEventKind.PeerRemoved,
                $"{(added ? "Peer added" : "Peer removed")}: {e.Lease.Subnet} at {e.Lease.Attrs.PublicIP}",
                e.Lease.Subnet.ToString(), e.Lease.Attrs.PublicIP.ToString());
        }
    }

    private void OnLeaseAcquired(Lease lease)
    {
        UpdateStatus(s => s with { Subnet = lease.Subnet.ToString(), LeaseExpiration = lease.Expiration, IsReservation = lease.IsReservation });
        Raise(NodeEventKind.LeaseAcquired, $"Lease acquired: {lease.Subnet}", lease.Subnet.ToString(), lease.Attrs.PublicIP.ToString());
    }

    private void OnLeaseRenewed(Lease lease)
    {
        UpdateStatus(s => s with { LeaseExpiration = lease.Expiration });
        Raise(NodeEventKind.LeaseRenewed, $"Lease renewed, new expiration: {lease.Expiration:O}", lease.Subnet.ToString(), lease.Attrs.PublicIP.ToString());
    }

    private void WriteSubnetFile(NetworkConfig config, Lease lease, int mtu)
    {
        SubnetEnvFile.Write(_options.SubnetFile, new SubnetEnv(config.Network, lease.Subnet, mtu, _options.IpMasq));
    }

    private async Task StopNetworkAsync()
    {
        IBackendNetwork? network;
        lock (_gate) { network = _network; _network = null; _peers.Clear(); }
        if (network is not null) await network.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task IgnoreCancellation(Task task)
    {
        try { await task.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    private void SetState(NodeState state)
    {
        bool changed;
        lock (_gate)
        {
            changed = _status.State != state;
            _status = _status with { State = state };
        }
        if (changed) Raise(NodeEventKind.StateChanged, $"State: {state}");
    }

    private void UpdateStatus(Func<NodeStatus, NodeStatus> update)
    {
        lock (_gate) _status = update(_status);
    }

    private void Raise(NodeEventKind kind, string message, string? subnet = null, string? publicIp = null)
    {
        try { EventRaised?.Invoke(new NodeEvent(_deps.Time.GetUtcNow(), kind, message, subnet, publicIp)); }
        catch (Exception ex) { _log.Warning($"node event handler failed: {ex.Message}"); }
    }
}
