// The narrow seam between flannel's logic and its store. EtcdSubnetRegistry is the only code that
// touches dotnet-etcd; tests use an in-memory implementation of the same contract.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public interface ISubnetRegistry : IAsyncDisposable
{
    /// <summary>Human-readable endpoint list, for messages.</summary>
    string Endpoints { get; }

    /// <summary>The full key of the network config, e.g. /coreos.com/network/config, for messages and error targets.</summary>
    string ConfigKey => "/coreos.com/network/config";

    /// <summary>The raw JSON at &lt;prefix&gt;/config, or null when the key is absent.</summary>
    Task<string?> GetNetworkConfigAsync(CancellationToken cancellationToken);

    Task PutNetworkConfigAsync(string json, CancellationToken cancellationToken);

    /// <summary>True when the key existed.</summary>
    Task<bool> DeleteNetworkConfigAsync(CancellationToken cancellationToken);

    /// <summary>All leases that parse, plus the store revision the snapshot was taken at.</summary>
    Task<LeaseSnapshot> GetLeasesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="GetLeasesAsync"/> but may skip the per-lease expiration lookups (one etcd
    /// TimeToLive each): Expiration can then be null on leased keys too; IsReservation still holds.
    /// Allocation needs only subnets and owners, and 250 racing nodes × 250 lookups overload etcd.
    /// </summary>
    Task<LeaseSnapshot> GetLeasesWithoutExpirationAsync(CancellationToken cancellationToken) => GetLeasesAsync(cancellationToken);

    Task<Lease?> GetLeaseAsync(Ip4Net subnet, CancellationToken cancellationToken);

    /// <summary>Creates the key with a fresh TTL only if it is absent; null when someone else has it.</summary>
    Task<Lease?> CreateLeaseAsync(Ip4Net subnet, LeaseAttrs attrs, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Writes the key unconditionally with a fresh TTL (reuse and renewal).</summary>
    Task<Lease> UpdateLeaseAsync(Ip4Net subnet, LeaseAttrs attrs, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Writes the key with no TTL: a reservation that is never re-leased.</summary>
    Task<Lease> PutReservationAsync(Ip4Net subnet, LeaseAttrs attrs, CancellationToken cancellationToken);

    /// <summary>True when the key existed.</summary>
    Task<bool> DeleteLeaseAsync(Ip4Net subnet, CancellationToken cancellationToken);

    /// <summary>
    /// Streams lease changes after <paramref name="afterRevision"/> until cancelled. Throws
    /// <see cref="RegistryCompactedException"/> when that revision is no longer available.
    /// </summary>
    IAsyncEnumerable<LeaseChange> WatchLeasesAsync(long afterRevision, CancellationToken cancellationToken);
}

public sealed record LeaseSnapshot(IReadOnlyList<Lease> Leases, long Revision);

public enum LeaseChangeKind { Put, Delete }

/// <summary>One change from the store. A Delete carries only the subnet (etcd sends only the key).</summary>
public sealed record LeaseChange(LeaseChangeKind Kind, Ip4Net Subnet, Lease? Lease, long Revision)
{
    /// <summary>
    /// False while more changes of the same store answer follow (one etcd watch response, or one
    /// transaction), so a consumer can hand them on together: 500 leases written at once then cost
    /// one backend update, not 500.
    /// </summary>
    public bool EndOfBatch { get; init; } = true;
}

public sealed class RegistryCompactedException(long revision)
    : Exception($"etcd revision {revision} has been compacted; re-listing leases.")
{
    public long Revision { get; } = revision;
}
