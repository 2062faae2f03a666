// flannel's lease cache for the peer watch, pure (no I/O): turns registry snapshots and changes
// into backend events, filters out this node's own subnet, and answers a delete with the lease it
// had cached, since an etcd delete carries only the key but a backend needs the PublicIP to undo.
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public sealed class LeaseWatcher(Ip4Net ownSubnet)
{
    private readonly Dictionary<Ip4Net, Lease> _known = [];

    public Ip4Net OwnSubnet { get; } = ownSubnet;

    public IReadOnlyCollection<Lease> Known => _known.Values;

    /// <summary>Diffs a full snapshot against the cache: Added for new or rewritten leases, Removed (cached lease) for vanished ones.</summary>
    public IReadOnlyList<LeaseEvent> Reset(IReadOnlyList<Lease> snapshot)
    {
        var events = new List<LeaseEvent>();
        var seen = new HashSet<Ip4Net>();
        foreach (var lease in snapshot)
        {
            if (lease.Subnet == OwnSubnet || !seen.Add(lease.Subnet)) continue;
            if (!_known.TryGetValue(lease.Subnet, out var cached) || Changed(cached, lease))
            {
                _known[lease.Subnet] = lease;
                events.Add(new LeaseEvent(LeaseEventType.Added, lease));
            }
        }
        foreach (var (subnet, cached) in _known.ToArray())
        {
            if (seen.Contains(subnet)) continue;
            _known.Remove(subnet);
            events.Add(new LeaseEvent(LeaseEventType.Removed, cached));
        }
        return events;
    }

    /// <summary>One store change as backend events (none for the own subnet, a stale put, or a delete of an unknown key).</summary>
    public IReadOnlyList<LeaseEvent> Apply(LeaseChange change)
    {
        if (change.Subnet == OwnSubnet) return [];
        if (change.Kind == LeaseChangeKind.Delete)
            return _known.Remove(change.Subnet, out var cached) ? [new LeaseEvent(LeaseEventType.Removed, cached)] : [];

        var lease = change.Lease ?? throw new ArgumentException("A Put change must carry its lease.", nameof(change));
        if (_known.TryGetValue(change.Subnet, out var old) && old.Revision > 0 && lease.Revision > 0 && lease.Revision < old.Revision)
            return []; // older than what a snapshot already showed
        _known[change.Subnet] = lease;
        return [new LeaseEvent(LeaseEventType.Added, lease)];
    }

    // Same key rewritten (new attrs, or a renewal that moved it to a new etcd lease): tell the backend again.
    private static bool Changed(Lease cached, Lease now) =>
        cached.Attrs != now.Attrs || cached.EtcdLeaseId != now.EtcdLeaseId || (now.Revision != 0 && cached.Revision != now.Revision);
}
