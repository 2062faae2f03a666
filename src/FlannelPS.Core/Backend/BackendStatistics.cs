// Counters a backend exposes through Get-FlannelNode; a snapshot, copied out of the datapath.
namespace FlannelPS.Core.Backend;

public sealed record BackendStatistics(
    long TunRxPackets, long TunRxBytes, long UdpRxPackets, long UdpRxBytes,
    long DroppedNoRoute, long DroppedTooShort, long DroppedTooLong, long DroppedTtl, long SendErrors,
    IReadOnlyList<PeerStatistics> Peers)
{
    public static readonly BackendStatistics Empty = new(0, 0, 0, 0, 0, 0, 0, 0, 0, []);
}

public sealed record PeerStatistics(string Subnet, string PublicIP, long TxPackets, long TxBytes, long RxPackets, long RxBytes);
