// Counters a backend exposes through Get-FlannelNode; a snapshot, copied out of the datapath.
namespace FlannelPS.Core.Backend;

public sealed record BackendStatistics(
    long TunRxPackets, long TunRxBytes, long UdpRxPackets, long UdpRxBytes,
    long DroppedNoRoute, long DroppedTooShort, long DroppedTooLong, long DroppedTtl, long SendErrors,
    IReadOnlyList<PeerStatistics> Peers)
{
    public static readonly BackendStatistics Empty = new(0, 0, 0, 0, 0, 0, 0, 0, 0, []);

    /// <summary>udp: CPU lanes beside the main lane (0: one forwarding thread).</summary>
    public int CpuLanes { get; init; }

    /// <summary>udp: whether the kernel currently steers packets to the CPU lanes (else to the main lane).</summary>
    public bool CpuLanesActive { get; init; }

    /// <summary>udp: packets each lane has read, main lane first.</summary>
    public IReadOnlyList<long> LanePackets { get; init; } = [];

    /// <summary>udp: switches between the CPU lanes and the main lane so far.</summary>
    public long SteeringSwitches { get; init; }

    /// <summary>vxlan, host-gw: peers whose kernel entries are all in place.</summary>
    public int ProgrammedPeers { get; init; }

    /// <summary>vxlan, host-gw: kernel changes refused so far (each is retried by the repair pass).</summary>
    public long ProgramFailures { get; init; }

    /// <summary>vxlan, host-gw: peers programmed again because their entries had gone missing.</summary>
    public long RepairedPeers { get; init; }

    /// <summary>vxlan: times flannel.N was found deleted and made again.</summary>
    public long DeviceRecreations { get; init; }
}

public sealed record PeerStatistics(string Subnet, string PublicIP, long TxPackets, long TxBytes, long RxPackets, long RxBytes);
