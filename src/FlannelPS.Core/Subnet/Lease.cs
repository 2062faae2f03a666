// One subnet lease as read from the registry.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public sealed record Lease
{
    public required Ip4Net Subnet { get; init; }
    public required LeaseAttrs Attrs { get; init; }
    /// <summary>When the etcd lease runs out; null for a reservation (a key with no etcd lease).</summary>
    public DateTimeOffset? Expiration { get; init; }
    /// <summary>The etcd lease id holding the key; 0 for a reservation.</summary>
    public long EtcdLeaseId { get; init; }
    /// <summary>etcd mod revision of the key (0 when unknown).</summary>
    public long Revision { get; init; }

    public bool IsReservation => EtcdLeaseId == 0;
    public string Key => SubnetKey.Make(Subnet);
}
