// The counters of one forwarding lane. Each field has one writer, the lane's thread, so plain
// increments suffice; the forwarder sums the lanes with Volatile reads and never takes a lock.
namespace FlannelPS.Core.Backend.Udp.Datapath;

internal sealed class LaneCounters
{
    // TUN → UDP
    public long TunRxPackets, TunRxBytes, NoRoute, TunTooShort, TunTooLong, TunTtl, SendErrors, IcmpSent, TunNotIpv4;
    // UDP → TUN
    public long UdpRxPackets, UdpRxBytes, UdpTooShort, UdpTooLong, UdpTtl, TunWriteErrors, UdpNotIpv4, UdpBadHeaderLength, UdpLengthMismatch;
    /// <summary>TCP super-packets written into the TUN (two or more received segments each), and the segments they held.</summary>
    public long TunCoalesced, TunCoalescedSegments;
    /// <summary>Super-packets read from the TUN and cut into wire packets, and the packets cut.</summary>
    public long TunSuperPackets, TunSegmented;
    /// <summary>TUN reads that held a packet offloads cannot produce (unknown GSO type, bad virtio header).</summary>
    public long TunBadOffload;
    /// <summary>Bytes the lane's thread had allocated after its last batch (GC.GetAllocatedBytesForCurrentThread).</summary>
    public long LoopThreadAllocated;

    /// <summary>Packets the lane has read from either side.</summary>
    public long Packets => Volatile.Read(ref TunRxPackets) + Volatile.Read(ref UdpRxPackets);
}
