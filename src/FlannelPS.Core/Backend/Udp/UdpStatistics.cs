// The udp datapath's own counters, the detail part of its BackendStatistics: totals, drops by
// reason, offloads and how the lanes split the traffic. A snapshot copied out of the datapath.
using System.Globalization;

namespace FlannelPS.Core.Backend.Udp;

public sealed record UdpStatistics(
    long TunRxPackets, long TunRxBytes, long UdpRxPackets, long UdpRxBytes,
    long DroppedNoRoute, long DroppedTooShort, long DroppedTooLong, long DroppedTtl, long SendErrors)
{
    /// <summary>CPU lanes beside the main lane (0: one forwarding thread).</summary>
    public int CpuLanes { get; init; }

    /// <summary>Whether the kernel currently steers packets to the CPU lanes (else to the main lane).</summary>
    public bool CpuLanesActive { get; init; }

    /// <summary>Packets each lane has read, main lane first.</summary>
    public IReadOnlyList<long> LanePackets { get; init; } = [];

    /// <summary>Switches between the CPU lanes and the main lane so far.</summary>
    public long SteeringSwitches { get; init; }

    /// <summary>Packets dropped because they were not IPv4 (either direction).</summary>
    public long DroppedNotIpv4 { get; init; }

    /// <summary>Datagrams dropped before flannel0 because their IPv4 header length (IHL) was below 5 words.</summary>
    public long DroppedBadHeaderLength { get; init; }

    /// <summary>Datagrams dropped before flannel0 because the IPv4 total length differed from the datagram's length.</summary>
    public long DroppedLengthMismatch { get; init; }

    /// <summary>UDP sends the kernel refused (packets).</summary>
    public long DroppedSendErrors { get; init; }

    /// <summary>Packets the TUN device refused or had no room for (packets).</summary>
    public long DroppedTunWriteErrors { get; init; }

    /// <summary>TUN reads with an offload the datapath cannot cut (an unexpected GSO type or virtio header).</summary>
    public long DroppedBadOffload { get; init; }

    /// <summary>Which TUN/UDP offloads are on, e.g. "tun:csum,tso4,uso4 udp:gso,gro", or why not.</summary>
    public string Offloads { get; init; } = "";

    /// <summary>Super-packets read from flannel0 and cut into wire packets, and the wire packets cut from them.</summary>
    public long SuperPacketsSegmented { get; init; }
    public long SegmentsSent { get; init; }

    /// <summary>TCP super-packets written into flannel0 and the received segments coalesced into them.</summary>
    public long SuperPacketsWritten { get; init; }
    public long SegmentsCoalesced { get; init; }

    /// <summary>Packets dropped for any reason, either direction.</summary>
    public long Dropped => DroppedNoRoute + DroppedTooShort + DroppedTooLong + DroppedTtl + DroppedNotIpv4 +
        DroppedBadHeaderLength + DroppedLengthMismatch + DroppedSendErrors + DroppedTunWriteErrors + DroppedBadOffload;

    /// <summary>One line for Get-FlannelNode | Format-List (the record's own would list every counter).</summary>
    public override string ToString()
    {
        var lanes = CpuLanes == 0 ? "one lane" : $"main lane + {CpuLanes} CPU lanes, {(CpuLanesActive ? "CPU lanes" : "main lane")} carrying traffic";
        return string.Create(CultureInfo.InvariantCulture,
            $"{TunRxPackets} packets from flannel0, {UdpRxPackets} from peers, {Dropped} dropped; offloads {(Offloads.Length == 0 ? "none" : Offloads)}; {lanes}");
    }
}
