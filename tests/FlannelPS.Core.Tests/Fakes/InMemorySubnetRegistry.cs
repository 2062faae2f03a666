// ISubnetRegistry in memory with etcd's semantics that matter to flannel: a global revision bumped
// by every write, keys with or without a TTL (expiry driven by a TimeProvider, surfacing as Delete
// events), prefix watches fed through channels with replay from a revision, compaction, and hooks
// to inject failures and lost races.
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Tests.Fakes;

public sealed class InMemorySubnetRegistry(TimeProvider time) : ISubnetRegistry
{
    private sealed record Entry(Lease Lease);

    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, Entry> _subnets = new(StringComparer.Ordinal);
    private readonly List<LeaseChange> _history = [];
    private readonly List<Channel<LeaseChange>> _watchers = [];
    private string? _config;
    private long _revision = 1;
    private long _compactedAt;
    private long _nextLeaseId = 0x1000;

    public string Endpoints => "memory://";

    /// <summary>Called (outside the lock) before each operation with its name; throw to simulate an outage.</summary>
    public Action<string>? BeforeCall { get; set; }

    /// <summary>Called just before a create's compare-and-put; use it to let a rival node win the key.</summary>
    public Func<Ip4Net, Task>? BeforeCreate { get; set; }

    public long Revision { get { lock (_gate) return _revision; } }
    public int CreateCalls;
    public int UpdateCalls;
    public int DeleteCalls;
    public int ReservationPuts;
    public int ActiveWatches { get { lock (_gate) return _watchers.Count; } }

    public Task<string?> GetNetworkConfigAsync(CancellationToken cancellationToken)
    {
        Before("GetNetworkConfig");
        lock (_gate) return Task.FromResult(_config);
    }

    public Task PutNetworkConfigAsync(string json, CancellationToken cancellationToken)
    {
        Before("PutNetworkConfig");
        lock (_gate) { _config = json; _revision++; }
        return Task.CompletedTask;
    }

    public Task<bool> DeleteNetworkConfigAsync(CancellationToken cancellationToken)
    {
        Before("DeleteNetworkConfig");
        lock (_gate)
        {
            var had = _config is not null;
            _config = null;
            if (had) _revision++;
            return Task.FromResult(had);
        }
    }

    public Task<LeaseSnapshot> GetLeasesAsync(CancellationToken cancellationToken)
    {
        Before("GetLeases");
        lock (_gate)
        {
            ExpireLocked();
            var leases = _subnets.Values.Select(e => e.Lease).ToList();
            return Task.FromResult(new LeaseSnapshot(leases, _revision));
        }
    }

    public Task<Lease?> GetLeaseAsync(Ip4Net subnet, CancellationToken cancellationToken)
    {
        Before("GetLease");
        lock (_gate)
        {
            ExpireLocked();
            return Task.FromResult(_subnets.TryGetValue(SubnetKey.Make(subnet), out var e) ? e.Lease : null);
        }
    }

    public async Task<Lease?> CreateLeaseAsync(Ip4Net subnet, LeaseAttrs attrs, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Before("CreateLease");
        Interlocked.Increment(ref CreateCalls);
        if (BeforeCreate is { } hook) await hook(subnet);
        lock (_gate)
        {
            ExpireLocked();
            if (_subnets.ContainsKey(SubnetKey.Make(subnet))) return null;
            return PutLocked(subnet, attrs, ttl);
        }
    }

    public Task<Lease> UpdateLeaseAsync(Ip4Net subnet, LeaseAttrs attrs, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Before("UpdateLease");
        Interlocked.Increment(ref UpdateCalls);
        if (ttl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ttl));
        lock (_gate) { ExpireLocked(); return Task.FromResult(PutLocked(subnet, attrs, ttl)); }
    }

    public Task<Lease> PutReservationAsync(Ip4Net subnet, LeaseAttrs attrs, CancellationToken cancellationToken)
    {
        Before("PutReservation");
        Interlocked.Increment(ref ReservationPuts);
        lock (_gate) { ExpireLocked(); return Task.FromResult(PutLocked(subnet, attrs, null)); }
    }

    public Task<bool> DeleteLeaseAsync(Ip4Net subnet, CancellationToken cancellationToken)
    {
        Before("DeleteLease");
        Interlocked.Increment(ref DeleteCalls);
        lock (_gate)
        {
            ExpireLocked();
            return Task.FromResult(DeleteLocked(SubnetKey.Make(subnet)));
        }
    }

    public async IAsyncEnumerable<LeaseChange> WatchLeasesAsync(long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Before("WatchLeases");
        var channel = Channel.CreateUnbounded<LeaseChange>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            ExpireLocked();
            if (afterRevision + 1 < _compactedAt) throw new RegistryCompactedException(afterRevision);
            foreach (var c in _history) if (c.Revision > afterRevision) channel.Writer.TryWrite(c);
            _watchers.Add(channel);
        }
        try
        {
            while (true)
            {
                LeaseChange change;
                try
                {
                    if (!await channel.Reader.WaitToReadAsync(cancellationToken)) yield break;
                    if (!channel.Reader.TryRead(out change!)) continue;
                }
                catch (ChannelClosedException ex) when (ex.InnerException is not null)
                {
                    throw ex.InnerException;
                }
                yield return change;
            }
        }
        finally
        {
            lock (_gate) _watchers.Remove(channel);
        }
    }

    public bool Disposed { get; private set; }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        lock (_gate) foreach (var w in _watchers) w.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    // ---- test controls ----

    /// <summary>Puts a lease directly, bypassing BeforeCall hooks and call counters (test setup); null ttl = a reservation.</summary>
    public void PutRaw(Ip4Net subnet, LeaseAttrs attrs, TimeSpan? ttl)
    {
        lock (_gate) PutLocked(subnet, attrs, ttl);
    }

    /// <summary>Writes several leases in one revision, as an etcd transaction: the watch sees them as one answer (EndOfBatch on the last).</summary>
    public void PutRawTogether(IReadOnlyList<(Ip4Net Subnet, LeaseAttrs Attrs)> leases, TimeSpan ttl)
    {
        lock (_gate)
        {
            var rev = ++_revision;
            for (var i = 0; i < leases.Count; i++)
            {
                var (subnet, attrs) = leases[i];
                var lease = new Lease { Subnet = subnet, Attrs = attrs, Revision = rev, EtcdLeaseId = ++_nextLeaseId, Expiration = time.GetUtcNow() + ttl };
                _subnets[SubnetKey.Make(subnet)] = new Entry(lease);
                Publish(new LeaseChange(LeaseChangeKind.Put, subnet, lease, rev) { EndOfBatch = i == leases.Count - 1 });
            }
        }
    }

    /// <summary>Drops history up to the current revision and breaks every open watch, as an etcd compaction that outran them.</summary>
    public void CompactAndBreakWatches()
    {
        lock (_gate)
        {
            _compactedAt = _revision;
            _history.Clear();
            foreach (var w in _watchers) w.Writer.TryComplete(new RegistryCompactedException(_revision));
            _watchers.Clear();
        }
    }

    /// <summary>Breaks every open watch with an error (a dropped connection).</summary>
    public void BreakWatches(Exception error)
    {
        lock (_gate)
        {
            foreach (var w in _watchers) w.Writer.TryComplete(error);
            _watchers.Clear();
        }
    }

    /// <summary>Deletes keys whose TTL ran out at the TimeProvider's now (etcd does this on its own).</summary>
    public void ExpireNow()
    {
        lock (_gate) ExpireLocked();
    }

    private void Before(string op) => BeforeCall?.Invoke(op);

    private Lease PutLocked(Ip4Net subnet, LeaseAttrs attrs, TimeSpan? ttl)
    {
        var rev = ++_revision;
        var lease = new Lease
        {
            Subnet = subnet, Attrs = attrs, Revision = rev,
            EtcdLeaseId = ttl is null ? 0 : ++_nextLeaseId,
            Expiration = ttl is null ? null : time.GetUtcNow() + ttl.Value,
        };
        _subnets[SubnetKey.Make(subnet)] = new Entry(lease);
        Publish(new LeaseChange(LeaseChangeKind.Put, subnet, lease, rev));
        return lease;
    }

    private bool DeleteLocked(string key)
    {
        if (!_subnets.Remove(key, out var e)) return false;
        var rev = ++_revision;
        Publish(new LeaseChange(LeaseChangeKind.Delete, e.Lease.Subnet, null, rev));
        return true;
    }

    private void ExpireLocked()
    {
        var now = time.GetUtcNow();
        foreach (var (key, e) in _subnets.ToArray())
            if (e.Lease.Expiration is { } exp && exp <= now) DeleteLocked(key);
    }

    private void Publish(LeaseChange change)
    {
        _history.Add(change);
        foreach (var w in _watchers) w.Writer.TryWrite(change);
    }
}
