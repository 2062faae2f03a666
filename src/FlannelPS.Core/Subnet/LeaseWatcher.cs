// flannel's lease cache for the peer watch, pure (no I/O): turns registry snapshots and changes
// into backend events, filters out this node's own subnet, and answers a delete with the lease it
// had cached, since an etcd delete carries only the key but a backend needs the PublicIP to undo.
//
// Overlaps: flannel never allocates overlapping subnets, but a bad write can store one (say
// 10.0.0.0/8 beside 10.0.5.0/24). Such a lease never displaces a lease already known (nor the own
// subnet): it is refused with a warning naming both and kept pending. When what it overlapped goes
// away it is considered again, and every snapshot re-evaluates the pending ones. So the set of
// known leases never overlaps, and the backend, which only ever hears about known leases, holds
// exactly that set whatever order the events come in.
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public sealed class LeaseWatcher(Ip4Net ownSubnet, ILog? log = null)
{
    private readonly Dictionary<Ip4Net, Lease> _known = [];
    // In the store but refused because they overlap a known lease or the own subnet.
    private readonly Dictionary<Ip4Net, Lease> _pending = [];
    private readonly ILog _log = log ?? NullLog.Instance;

    public Ip4Net OwnSubnet { get; } = ownSubnet;

    /// <summary>The peer leases the backend has been told about: never two that overlap.</summary>
    public IReadOnlyCollection<Lease> Known => _known.Values;

    /// <summary>Leases in the store that are refused for now because they overlap a known lease or the own subnet.</summary>
    public IReadOnlyCollection<Lease> Pending => _pending.Values;

    /// <summary>
    /// Diffs a full snapshot against the cache: Removed (cached lease) for vanished ones first, then
    /// Added for new or rewritten leases. Known leases that are still stored stay known; the others are
    /// taken oldest revision first, each only if it overlaps nothing taken before it.
    /// </summary>
    public IReadOnlyList<LeaseEvent> Reset(IReadOnlyList<Lease> snapshot)
    {
        var stored = new Dictionary<Ip4Net, Lease>();
        foreach (var lease in snapshot)
        {
            if (lease.Subnet == OwnSubnet) continue;
            stored.TryAdd(lease.Subnet, lease);
        }
        var next = new Dictionary<Ip4Net, Lease>();
        foreach (var (subnet, lease) in stored)
        {
            if (_known.ContainsKey(subnet)) next[subnet] = lease;
        }
        var pendingBefore = new Dictionary<Ip4Net, Lease>(_pending);
        _pending.Clear();
        foreach (var lease in stored.Values.Where(l => !next.ContainsKey(l.Subnet)).OrderBy(l => l.Revision).ThenBy(l => l.Subnet))
        {
            if (Blocker(lease.Subnet, next) is { } blocker)
            {
                _pending[lease.Subnet] = lease;
                if (!pendingBefore.TryGetValue(lease.Subnet, out var was) || was != lease) WarnRefused(lease, blocker);
            }
            else
            {
                next[lease.Subnet] = lease;
            }
        }

        var events = new List<LeaseEvent>();
        foreach (var (subnet, cached) in _known)
        {
            if (!next.ContainsKey(subnet)) events.Add(new LeaseEvent(LeaseEventType.Removed, cached));
        }
        foreach (var lease in snapshot)
        {
            if (!next.TryGetValue(lease.Subnet, out var taken) || !ReferenceEquals(taken, lease)) continue;
            if (!_known.TryGetValue(lease.Subnet, out var cached) || Changed(cached, lease))
                events.Add(new LeaseEvent(LeaseEventType.Added, lease));
        }
        _known.Clear();
        foreach (var (subnet, lease) in next) _known[subnet] = lease;
        return events;
    }

    /// <summary>One store change as backend events (none for the own subnet, a stale put, a refused overlap, or a delete of an unknown key).</summary>
    public IReadOnlyList<LeaseEvent> Apply(LeaseChange change)
    {
        if (change.Subnet == OwnSubnet) return [];
        if (change.Kind == LeaseChangeKind.Delete)
        {
            if (_pending.Remove(change.Subnet)) return [];
            if (!_known.Remove(change.Subnet, out var cached)) return [];
            var events = new List<LeaseEvent> { new(LeaseEventType.Removed, cached) };
            Promote(events);
            return events;
        }

        var lease = change.Lease ?? throw new ArgumentException("A Put change must carry its lease.", nameof(change));
        if (_known.TryGetValue(change.Subnet, out var old) && IsOlder(lease, old)) return []; // older than what a snapshot already showed
        if (old is not null)
        {
            _known[change.Subnet] = lease;
            return [new LeaseEvent(LeaseEventType.Added, lease)];
        }
        if (_pending.TryGetValue(change.Subnet, out var waiting) && IsOlder(lease, waiting)) return [];
        if (Blocker(change.Subnet, _known) is { } blocker)
        {
            _pending[change.Subnet] = lease;
            WarnRefused(lease, blocker);
            return [];
        }
        _pending.Remove(change.Subnet);
        _known[change.Subnet] = lease;
        return [new LeaseEvent(LeaseEventType.Added, lease)];
    }

    // After a known lease went away: pending leases that no longer overlap anything known are taken,
    // oldest first, each checked against the ones taken before it.
    private void Promote(List<LeaseEvent> events)
    {
        if (_pending.Count == 0) return;
        foreach (var lease in _pending.Values.OrderBy(l => l.Revision).ThenBy(l => l.Subnet).ToArray())
        {
            if (Blocker(lease.Subnet, _known) is not null) continue;
            _pending.Remove(lease.Subnet);
            _known[lease.Subnet] = lease;
            _log.Info($"Subnet lease {Describe(lease)} no longer overlaps a known lease; using it.");
            events.Add(new LeaseEvent(LeaseEventType.Added, lease));
        }
    }

    // What keeps a lease for `subnet` out: the own subnet, or a lease in `taken` that overlaps it (its own key aside).
    private Lease? Blocker(Ip4Net subnet, Dictionary<Ip4Net, Lease> taken)
    {
        if (subnet.Overlaps(OwnSubnet)) return OwnPlaceholder();
        foreach (var (other, lease) in taken)
        {
            if (other != subnet && other.Overlaps(subnet)) return lease;
        }
        return null;
    }

    private Lease OwnPlaceholder() => new() { Subnet = OwnSubnet, Attrs = new LeaseAttrs(default) };

    private void WarnRefused(Lease refused, Lease blocker)
    {
        var what = blocker.Subnet == OwnSubnet ? $"this node's own subnet {OwnSubnet}" : $"the known lease {Describe(blocker)}";
        _log.Warning($"Subnet lease {Describe(refused)} overlaps {what}; ignoring it (flannel never allocates overlapping subnets: delete the bad key).");
    }

    private static string Describe(Lease lease) => $"{lease.Subnet} (PublicIP {lease.Attrs.PublicIP})";

    private static bool IsOlder(Lease lease, Lease than) => than.Revision > 0 && lease.Revision > 0 && lease.Revision < than.Revision;

    // Same key rewritten (new attrs, or a renewal that moved it to a new etcd lease): tell the backend again.
    private static bool Changed(Lease cached, Lease now) =>
        cached.Attrs != now.Attrs || cached.EtcdLeaseId != now.EtcdLeaseId || (now.Revision != 0 && cached.Revision != now.Revision);
}
