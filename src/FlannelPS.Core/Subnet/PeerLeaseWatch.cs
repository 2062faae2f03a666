// Drives the registry (snapshot, then a watch from the snapshot's revision) through a LeaseWatcher
// and hands event batches to the backend. Compaction → re-list and diff; any other failure →
// logged and retried with exponential backoff (100 ms → 5 s), never thrown while running.
// Changes to the node's OWN key are reported separately: rewritten → the new lease, deleted → null.
//
// Delivery: both callbacks run on the RunAsync task, in store order, one at a time; they must be
// quick (queue work elsewhere). An exception from a callback is logged and the watch goes on.
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public sealed class PeerLeaseWatch
{
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly ISubnetRegistry _registry;
    private readonly LeaseWatcher _watcher;
    private readonly Action<IReadOnlyList<LeaseEvent>> _onEvents;
    private readonly Action<Lease?> _onOwnLeaseChanged;
    private readonly TimeProvider _time;
    private readonly ILog _log;
    // Last own-key state seen: a revision (>0), 0 = seen absent, -1 = not yet looked.
    private long _ownRevision = -1;

    public PeerLeaseWatch(ISubnetRegistry registry, Ip4Net ownSubnet, Action<IReadOnlyList<LeaseEvent>> onEvents,
        Action<Lease?> onOwnLeaseChanged, TimeProvider time, ILog log)
        : this(registry, new LeaseWatcher(ownSubnet, log), onEvents, onOwnLeaseChanged, time, log) { }

    /// <summary>
    /// Continues from what <paramref name="watcher"/> already knows: its first snapshot is diffed
    /// against that, so peers that left while no watch ran are reported removed, and the ones that
    /// stayed are not reported again.
    /// </summary>
    public PeerLeaseWatch(ISubnetRegistry registry, LeaseWatcher watcher, Action<IReadOnlyList<LeaseEvent>> onEvents,
        Action<Lease?> onOwnLeaseChanged, TimeProvider time, ILog log)
    {
        _registry = registry;
        _watcher = watcher;
        _onEvents = onEvents;
        _onOwnLeaseChanged = onOwnLeaseChanged;
        _time = time;
        _log = log;
    }

    public Ip4Net OwnSubnet => _watcher.OwnSubnet;

    /// <summary>Store revision the watch has reached (0 before the first snapshot).</summary>
    public long Revision { get; private set; }

    /// <summary>
    /// The revision of a listing the watcher was just reset from: the watch then goes on from there
    /// instead of listing every lease (and reading every TTL) again. Null: start with a snapshot.
    /// </summary>
    public long? StartRevision { get; init; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = InitialBackoff;
        var needSnapshot = StartRevision is null;
        if (StartRevision is { } start) Revision = start;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needSnapshot)
                {
                    var snapshot = await _registry.GetLeasesAsync(cancellationToken).ConfigureAwait(false);
                    Deliver(_watcher.Reset(snapshot.Leases));
                    ObserveOwnInSnapshot(snapshot.Leases);
                    Revision = snapshot.Revision;
                    needSnapshot = false;
                    backoff = InitialBackoff;
                }
                // The changes of one store answer reach the backend together (EndOfBatch). What the
                // watcher has taken in is always handed on, even when the stream breaks mid-answer,
                // so the watcher's view and the backend's never drift apart.
                var pending = new List<LeaseEvent>();
                try
                {
                    await foreach (var change in _registry.WatchLeasesAsync(Revision, cancellationToken).ConfigureAwait(false))
                    {
                        if (change.Subnet == OwnSubnet) ObserveOwnChange(change);
                        else pending.AddRange(_watcher.Apply(change));
                        Revision = Math.Max(Revision, change.Revision);
                        backoff = InitialBackoff;
                        if (!change.EndOfBatch) continue;
                        Deliver(pending);
                        pending = [];
                    }
                }
                finally
                {
                    Deliver(pending);
                }
                // A stream that ends without an error is reopened from the same revision, paced like a failure.
                if (!cancellationToken.IsCancellationRequested)
                    throw new InvalidOperationException("the watch stream ended");
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                break; // gRPC reports our own cancellation as RpcException(Cancelled): not a failure
            }
            catch (RegistryCompactedException ex)
            {
                _log.Info($"Watch subnets: {ex.Message}");
                needSnapshot = true;
            }
            catch (Exception ex)
            {
                _log.Warning($"Watch subnets: {ex.Message} (retrying in {backoff.TotalMilliseconds:0} ms)");
                try
                {
                    await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private void ObserveOwnInSnapshot(IReadOnlyList<Lease> leases)
    {
        Lease? own = null;
        foreach (var l in leases) if (l.Subnet == OwnSubnet) { own = l; break; }
        var first = _ownRevision == -1;
        if (own is null)
        {
            if (_ownRevision != 0) { _ownRevision = 0; ReportOwn(null); }
        }
        else if (own.Revision != _ownRevision)
        {
            _ownRevision = own.Revision;
            // The first sight of our own lease is what the node just acquired: nothing new to tell.
            if (!first) ReportOwn(own);
        }
    }

    private void ObserveOwnChange(LeaseChange change)
    {
        if (change.Kind == LeaseChangeKind.Delete)
        {
            _ownRevision = 0;
            ReportOwn(null);
        }
        else
        {
            _ownRevision = change.Revision;
            ReportOwn(change.Lease);
        }
    }

    private void ReportOwn(Lease? lease)
    {
        try
        {
            _onOwnLeaseChanged(lease);
        }
        catch (Exception ex)
        {
            _log.Error($"Own lease handler failed: {ex.Message}");
        }
    }

    private void Deliver(IReadOnlyList<LeaseEvent> events)
    {
        if (events.Count == 0) return;
        try
        {
            _onEvents(events);
        }
        catch (Exception ex)
        {
            _log.Error($"Lease event handler failed: {ex.Message}");
        }
    }
}
