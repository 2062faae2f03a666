using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp;

namespace FlannelPS.Core.Tests.Backend;

// What Get-FlannelNode | Format-List shows for Statistics: one readable line, not every counter.
public class BackendStatisticsTests
{
    private static readonly PeerStatistics Peer = new("10.0.2.0/24", "192.0.2.2", 1, 2, 3, 4);

    [Fact]
    public void TheUdpLineHasTheTotalsAllDropsTheOffloadsAndTheLanes()
    {
        var udp = new UdpStatistics(100, 1000, 90, 900, DroppedNoRoute: 1, DroppedTooShort: 2, DroppedTooLong: 3, DroppedTtl: 4, SendErrors: 7)
        {
            DroppedNotIpv4 = 5, DroppedBadHeaderLength = 6, DroppedLengthMismatch = 7, DroppedSendErrors = 8, DroppedTunWriteErrors = 9, DroppedBadOffload = 10,
            Offloads = "tun:csum,tso4,uso4 udp:gso on,gro on", CpuLanes = 2, CpuLanesActive = false,
        };
        Assert.Equal(55, udp.Dropped);
        Assert.Equal("2 peers; 100 packets from flannel0, 90 from peers, 55 dropped; offloads tun:csum,tso4,uso4 udp:gso on,gro on; main lane + 2 CPU lanes, main lane carrying traffic",
            new BackendStatistics([Peer, Peer]) { Detail = udp }.ToString());
        Assert.EndsWith("offloads none; one lane", (udp with { Offloads = "", CpuLanes = 0 }).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheKernelLineSaysHowThePeersAreKept()
    {
        Assert.Equal("1 peer; programmed 1, changes refused 0, repaired 2, device recreated 1",
            new BackendStatistics([Peer]) { Detail = new KernelPeerStatistics(1, 0, 2, 1) }.ToString());
        Assert.Equal("0 peers", BackendStatistics.Empty.ToString());
    }
}
