// Counters a backend exposes through Get-FlannelNode: a part every backend has (its peers, with
// packet counters where the backend itself forwards) and the backend's own detail (UdpStatistics,
// KernelPeerStatistics). A snapshot, copied out of the datapath.
namespace FlannelPS.Core.Backend;

public sealed record BackendStatistics(IReadOnlyList<PeerStatistics> Peers)
{
    public static readonly BackendStatistics Empty = new([]);

    /// <summary>The backend's own counters (UdpStatistics for udp, KernelPeerStatistics for vxlan and host-gw); null for alloc.</summary>
    public object? Detail { get; init; }

    /// <summary>One line for Get-FlannelNode | Format-List: the peer count, then the backend's own summary.</summary>
    public override string ToString()
    {
        var peers = Peers.Count == 1 ? "1 peer" : $"{Peers.Count} peers";
        return Detail is null ? peers : $"{peers}; {Detail}";
    }
}

/// <summary>A peer's packet counters; zero for the kernel backends, whose packets the kernel counts.</summary>
public sealed record PeerStatistics(string Subnet, string PublicIP, long TxPackets, long TxBytes, long RxPackets, long RxBytes);
