// A point-in-time view of a node, for Get-FlannelNode and health checks.
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Backend;

namespace FlannelPS.Core.Node;

public sealed record NodeStatus
{
    public NodeState State { get; init; }
    public string? Network { get; init; }
    public string? Subnet { get; init; }
    public string? PublicIP { get; init; }
    public string? Interface { get; init; }
    public string? BackendType { get; init; }
    public int Mtu { get; init; }
    public DateTimeOffset? LeaseExpiration { get; init; }
    public bool IsReservation { get; init; }
    public string SubnetFile { get; init; } = NodeOptions.DefaultSubnetFile;
    public IReadOnlyList<PeerInfo> Peers { get; init; } = [];
    public BackendStatistics Statistics { get; init; } = BackendStatistics.Empty;
    public DateTimeOffset? StartedAt { get; init; }
    public string? LastError { get; init; }
}

public sealed record PeerInfo(string Subnet, string PublicIP, DateTimeOffset? Expiration, long TxPackets, long TxBytes, long RxPackets, long RxBytes);
