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

    /// <summary>udp: packets dropped because they were not IPv4 (either direction).</summary>
    public long DroppedNotIpv4 { get; init; }

    /// <summary>udp: datagrams dropped before flannel0 because their IPv4 header length (IHL) was below 5 words.</summary>
    public long DroppedBadHeaderLength { get; init; }

    /// <summary>udp: datagrams dropped before flannel0 because the IPv4 total length differed from the datagram's length.</summary>
    public long DroppedLengthMismatch { get; init; }

    /// <summary>udp: UDP sends the kernel refused (packets).</summary>
    public long DroppedSendErrors { get; init; }

    /// <summary>udp: packets the TUN device refused or had no room for (packets).</summary>
    public long DroppedTunWriteErrors { get; init; }

    /// <summary>udp: TUN reads with an offload the datapath cannot cut (an unexpected GSO type or virtio header).</summary>
    public long DroppedBadOffload { get; init; }

    /// <summary>udp: which TUN/UDP offloads are on, e.g. "tun:csum,tso4,uso4 udp:gso,gro", or why not.</summary>
    public string Offloads { get; init; } = "";

    /// <summary>udp: super-packets read from flannel0 and cut into wire packets, and the wire packets cut from them.</summary>
    public long SuperPacketsSegmented { get; init; }
    public long SegmentsSent { get; init; }

    /// <summary>udp: TCP super-packets written into flannel0 and the received segments coalesced into them.</summary>
    public long SuperPacketsWritten { get; init; }
    public long SegmentsCoalesced { get; init; }
}

public sealed record PeerStatistics(string Subnet, string PublicIP, long TxPackets, long TxBytes, long RxPackets, long RxBytes);
