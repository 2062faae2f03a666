// ISubnetRegistry over etcd v3 (dotnet-etcd), with flannel HEAD's key layout and lease semantics:
// create = Grant + Txn(CreateRevision==0 → Put with lease), update = Grant + Put, reservation = Put
// with no lease. Every unary call is bounded by EtcdOptions.RequestTimeout.
using System.Runtime.CompilerServices;
using dotnet_etcd;
using Etcdserverpb;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Lease = FlannelPS.Core.Subnet.Lease;

namespace FlannelPS.Core.Registry;

public sealed class EtcdSubnetRegistry : ISubnetRegistry
{
    private readonly EtcdOptions _options;
    private readonly ILog _log;
    private readonly TimeProvider _time;
    private readonly GrpcChannel _channel;
    private readonly EtcdClient _client;
    private readonly EtcdCaller _caller;
    private readonly Watch.WatchClient _watchClient;
    // Expiration per etcd lease id. flannel never extends an etcd lease (renewal grants a new one),
    // so one TimeToLive per id is enough; this turns N nodes × M attempts × L leases RPCs into L.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, DateTimeOffset> _expirations = new();
    private const int ExpirationCacheLimit = 8192;
    private int _disposed;

    public EtcdSubnetRegistry(EtcdOptions options) : this(options, NullLog.Instance, TimeProvider.System) { }

    public EtcdSubnetRegistry(EtcdOptions options, ILog log, TimeProvider time)
    {
        _options = options;
        _log = log;
        _time = time;
        _channel = EtcdChannel.Create(options);
        var invoker = _channel.CreateCallInvoker();
        _client = new EtcdClient(invoker);
        _watchClient = new Watch.WatchClient(invoker);
        _caller = new EtcdCaller(options, _client);
    }

    public string Endpoints => _options.EndpointList;

    public string ConfigKey => _options.ConfigKey;

    public async Task<string?> GetNetworkConfigAsync(CancellationToken cancellationToken)
    {
        var resp = await _caller.CallAsync("get the network config",
            (h, d, ct) => _client.GetAsync(new RangeRequest { Key = Bytes(_options.ConfigKey) }, h, d, ct), cancellationToken).ConfigureAwait(false);
        return resp.Kvs.Count == 0 ? null : resp.Kvs[0].Value.ToStringUtf8();
    }

    public Task PutNetworkConfigAsync(string json, CancellationToken cancellationToken) =>
        _caller.CallAsync("write the network config",
            (h, d, ct) => _client.PutAsync(new PutRequest { Key = Bytes(_options.ConfigKey), Value = Bytes(json) }, h, d, ct), cancellationToken);

    public async Task<bool> DeleteNetworkConfigAsync(CancellationToken cancellationToken)
    {
        var resp = await _caller.CallAsync("delete the network config",
            (h, d, ct) => _client.DeleteAsync(new DeleteRangeRequest { Key = Bytes(_options.ConfigKey) }, h, d, ct), cancellationToken).ConfigureAwait(false);
        return resp.Deleted > 0;
    }

    public Task<LeaseSnapshot> GetLeasesAsync(CancellationToken cancellationToken) => ListAsync(withExpiration: true, cancellationToken);

    public Task<LeaseSnapshot> GetLeasesWithoutExpirationAsync(CancellationToken cancellationToken) => ListAsync(withExpiration: false, cancellationToken);

    private async Task<LeaseSnapshot> ListAsync(bool withExpiration, CancellationToken cancellationToken)
    {
        var prefix = _options.SubnetsPrefix;
        var resp = await _caller.CallAsync("list subnet leases",
            (h, d, ct) => _client.GetAsync(new RangeRequest { Key = Bytes(prefix), RangeEnd = Bytes(EtcdClient.GetRangeEnd(prefix)) }, h, d, ct),
            cancellationToken).ConfigureAwait(false);

        var parsed = new List<(Ip4Net Subnet, LeaseAttrs Attrs, long LeaseId, long ModRevision)>(resp.Kvs.Count);
        foreach (var kv in resp.Kvs)
            if (TryParseNode(kv, out var subnet, out var attrs)) parsed.Add((subnet, attrs, kv.Lease, kv.ModRevision));
        var expirations = await ExpirationsAsync(withExpiration ? parsed.Select(p => p.LeaseId) : [], cancellationToken).ConfigureAwait(false);

        var leases = new List<Lease>(parsed.Count);
        foreach (var p in parsed)
            leases.Add(new Lease
            {
                Subnet = p.Subnet, Attrs = p.Attrs, EtcdLeaseId = p.LeaseId, Revision = p.ModRevision,
                Expiration = p.LeaseId == 0 || !withExpiration ? null : expirations[p.LeaseId],
            });
        return new LeaseSnapshot(leases, resp.Header.Revision);
    }

    public async Task<Lease?> GetLeaseAsync(Ip4Net subnet, CancellationToken cancellationToken)
    {
        var resp = await _caller.CallAsync("read a subnet lease",
            (h, d, ct) => _client.GetAsync(new RangeRequest { Key = Bytes(KeyOf(subnet)) }, h, d, ct), cancellationToken).ConfigureAwait(false);
        if (resp.Kvs.Count == 0 || !TryParseNode(resp.Kvs[0], out var parsedSubnet, out var attrs)) return null;
        var kv = resp.Kvs[0];
        return new Lease
        {
            Subnet = parsedSubnet, Attrs = attrs, EtcdLeaseId = kv.Lease, Revision = kv.ModRevision,
            Expiration = kv.Lease == 0 ? null : await TimeToLiveAsync(kv.Lease, cancellationToken).ConfigureAwait(false),
        };
    }

    public async Task<Lease?> CreateLeaseAsync(Ip4Net subnet, LeaseAttrs attrs, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var key = Bytes(KeyOf(subnet));
        return await PutOnNewLeaseAsync(subnet, attrs, ttl, "create a subnet lease", async (leaseId, h, d, ct) =>
        {
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = Bytes(attrs.ToJson()), Lease = leaseId } });
            var resp = await _client.TransactionAsync(txn, h, d, ct).ConfigureAwait(false);
            return resp.Succeeded ? resp.Header.Revision : (long?)null;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Lease> UpdateLeaseAsync(Ip4Net subnet, LeaseAttrs attrs, TimeSpan ttl, CancellationToken cancellationToken)
    {
        // The previous etcd lease is left to run out with no key attached, as flannel does.
        var lease = await PutOnNewLeaseAsync(subnet, attrs, ttl, "update a subnet lease", async (leaseId, h, d, ct) =>
        {
            var resp = await _client.PutAsync(new PutRequest { Key = Bytes(KeyOf(subnet)), Value = Bytes(attrs.ToJson()), Lease = leaseId }, h, d, ct).ConfigureAwait(false);
            return (long?)resp.Header.Revision;
        }, cancellationToken).ConfigureAwait(false);
        return lease!;
    }

    /// <summary>
    /// Grants an etcd lease of <paramref name="ttl"/> and runs <paramref name="put"/> with it, which
    /// returns the store revision, or null when the key was not written (taken). Whenever nothing was
    /// written the etcd lease is revoked instead of being left to idle for its TTL.
    /// </summary>
    private async Task<Lease?> PutOnNewLeaseAsync(Ip4Net subnet, LeaseAttrs attrs, TimeSpan ttl, string what,
        Func<long, Metadata?, DateTime, CancellationToken, Task<long?>> put, CancellationToken cancellationToken)
    {
        var (leaseId, expiration) = await GrantAsync(ttl, cancellationToken).ConfigureAwait(false);
        long? revision;
        try
        {
            revision = await _caller.CallAsync(what, (h, d, ct) => put(leaseId, h, d, ct), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await RevokeQuietlyAsync(leaseId).ConfigureAwait(false);
            throw;
        }
        if (revision is not { } rev)
        {
            await RevokeQuietlyAsync(leaseId).ConfigureAwait(false);
            _log.Debug($"Subnet {subnet} is already taken; revoked the unused etcd lease {leaseId:x}");
            return null;
        }
        return new Lease { Subnet = subnet, Attrs = attrs, EtcdLeaseId = leaseId, Revision = rev, Expiration = expiration };
    }

    public async Task<Lease> PutReservationAsync(Ip4Net subnet, LeaseAttrs attrs, CancellationToken cancellationToken)
    {
        // Lease 0 = no lease: never Grant(0), which etcd turns into its ~2 s minimum TTL.
        var resp = await _caller.CallAsync("write a subnet reservation",
            (h, d, ct) => _client.PutAsync(new PutRequest { Key = Bytes(KeyOf(subnet)), Value = Bytes(attrs.ToJson()), Lease = 0 }, h, d, ct),
            cancellationToken).ConfigureAwait(false);
        return new Lease { Subnet = subnet, Attrs = attrs, EtcdLeaseId = 0, Revision = resp.Header.Revision, Expiration = null };
    }

    public async Task<bool> DeleteLeaseAsync(Ip4Net subnet, CancellationToken cancellationToken)
    {
        var resp = await _caller.CallAsync("delete a subnet lease",
            (h, d, ct) => _client.DeleteAsync(new DeleteRangeRequest { Key = Bytes(KeyOf(subnet)) }, h, d, ct), cancellationToken).ConfigureAwait(false);
        return resp.Deleted > 0;
    }

    public async IAsyncEnumerable<LeaseChange> WatchLeasesAsync(long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = _options.SubnetsPrefix;
        await using var stream = new EtcdWatchStream(_watchClient, _caller, _options);
        await stream.StartAsync(new WatchCreateRequest
        {
            Key = Bytes(prefix), RangeEnd = Bytes(EtcdClient.GetRangeEnd(prefix)), StartRevision = afterRevision + 1,
        }, afterRevision, cancellationToken).ConfigureAwait(false);

        while (true)
        {
            var resp = await stream.NextAsync(cancellationToken).ConfigureAwait(false);
            // The TTLs of one response's new leases are read together, as a listing reads them.
            var events = new List<(Mvccpb.Event Event, Ip4Net Subnet, LeaseAttrs? Attrs)>(resp.Events.Count);
            foreach (var ev in resp.Events)
            {
                if (!TryParseKey(ev.Kv.Key.ToStringUtf8(), out var subnet)) continue;
                if (ev.Type == Mvccpb.Event.Types.EventType.Delete) events.Add((ev, subnet, null));
                else if (TryParseNode(ev.Kv, out _, out var attrs)) events.Add((ev, subnet, attrs));
            }
            var expirations = await ExpirationsAsync(events.Where(e => e.Attrs is not null).Select(e => e.Event.Kv.Lease), cancellationToken).ConfigureAwait(false);
            var changes = events.Select(e => e.Attrs is not { } attrs
                ? new LeaseChange(LeaseChangeKind.Delete, e.Subnet, null, e.Event.Kv.ModRevision)
                : new LeaseChange(LeaseChangeKind.Put, e.Subnet, new Lease
                {
                    Subnet = e.Subnet, Attrs = attrs, EtcdLeaseId = e.Event.Kv.Lease, Revision = e.Event.Kv.ModRevision,
                    Expiration = e.Event.Kv.Lease == 0 ? null : expirations[e.Event.Kv.Lease],
                }, e.Event.Kv.ModRevision)).ToList();
            for (var i = 0; i < changes.Count; i++)
                yield return changes[i] with { EndOfBatch = i == changes.Count - 1 };
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _client.Dispose();
            _channel.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private string KeyOf(Ip4Net subnet) => _options.SubnetsPrefix + SubnetKey.Make(subnet);

    private static ByteString Bytes(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>Grants an etcd lease; its id and expiration (remembered for TimeToLiveAsync).</summary>
    private async Task<(long Id, DateTimeOffset Expiration)> GrantAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        var seconds = (long)Math.Ceiling(ttl.TotalSeconds);
        if (seconds <= 0) throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A lease TTL must be positive; use PutReservationAsync for a key with no TTL.");
        var grant = await _caller.CallAsync("grant an etcd lease",
            (h, d, ct) => _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = seconds }, h, d, ct), cancellationToken).ConfigureAwait(false);
        var expiration = _time.GetUtcNow().AddSeconds(grant.TTL);
        RememberExpiration(grant.ID, expiration);
        return (grant.ID, expiration);
    }

    /// <summary>The expiration cache's one rule: when full, start over (ids of old leases are never asked again).</summary>
    private void RememberExpiration(long id, DateTimeOffset expiration)
    {
        if (_expirations.Count >= ExpirationCacheLimit) _expirations.Clear();
        _expirations[id] = expiration;
    }

    private async Task RevokeQuietlyAsync(long id)
    {
        _expirations.TryRemove(id, out _);
        try
        {
            await _caller.CallAsync("revoke an unused etcd lease",
                (h, d, ct) => _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }, h, d, ct), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _log.Warning($"Could not revoke unused etcd lease {id:x}: {ex.Message}");
        }
    }

    /// <summary>now + remaining TTL; now when the lease is already gone (etcd answers TTL -1).</summary>
    /// <summary>
    /// The expiration of each distinct etcd lease among <paramref name="leaseIds"/> (0, a reservation, is
    /// skipped), read together: 250 leases are 250 small RPCs multiplexed on one HTTP/2 connection, not
    /// 250 round trips one after the other.
    /// </summary>
    private async Task<Dictionary<long, DateTimeOffset?>> ExpirationsAsync(IEnumerable<long> leaseIds, CancellationToken cancellationToken)
    {
        var ids = leaseIds.Where(id => id != 0).Distinct().ToArray();
        var ttls = await Task.WhenAll(ids.Select(id => TimeToLiveAsync(id, cancellationToken))).ConfigureAwait(false);
        var expirations = new Dictionary<long, DateTimeOffset?>(ids.Length);
        for (var i = 0; i < ids.Length; i++) expirations[ids[i]] = ttls[i];
        return expirations;
    }

    private async Task<DateTimeOffset?> TimeToLiveAsync(long id, CancellationToken cancellationToken)
    {
        if (_expirations.TryGetValue(id, out var known)) return known;
        var resp = await _caller.CallAsync("read an etcd lease TTL",
            (h, d, ct) => _client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = id }, h, d, ct), cancellationToken).ConfigureAwait(false);
        // A key whose lease just ran out is about to be deleted: it expires now.
        var expiration = _time.GetUtcNow().AddSeconds(Math.Max(0, resp.TTL));
        if (resp.TTL > 0) RememberExpiration(id, expiration);
        return expiration;
    }

    private bool TryParseKey(string fullKey, out Ip4Net subnet)
    {
        subnet = default;
        var prefix = _options.SubnetsPrefix;
        if (!fullKey.StartsWith(prefix, StringComparison.Ordinal) || !SubnetKey.TryParse(fullKey[prefix.Length..], out subnet))
        {
            _log.Warning($"Ignoring bad subnet node: {fullKey}");
            return false;
        }
        return true;
    }

    private bool TryParseNode(Mvccpb.KeyValue kv, out Ip4Net subnet, out LeaseAttrs attrs)
    {
        attrs = null!;
        var key = kv.Key.ToStringUtf8();
        if (!TryParseKey(key, out subnet)) return false;
        var parsed = LeaseAttrs.TryParse(kv.Value.ToStringUtf8());
        if (parsed is null)
        {
            _log.Warning($"Ignoring bad subnet node: {key}: value is not a lease ({kv.Value.ToStringUtf8()})");
            return false;
        }
        attrs = parsed;
        return true;
    }
}
