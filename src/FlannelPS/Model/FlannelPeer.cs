// One peer in Get-FlannelNode's Peers: another node's lease as this node programs it, with the
// packets and bytes the datapath moved to and from it (zero for the kernel backends).
using FlannelPS.Core.Node;

namespace FlannelPS.Model;

public sealed class FlannelPeer
{
    internal FlannelPeer(PeerInfo peer)
    {
        Subnet = Ipv4Subnet.Parse(peer.Subnet);
        PublicIP = Ipv4Address.Parse(peer.PublicIP);
        Expiration = peer.Expiration;
        TxPackets = peer.TxPackets;
        TxBytes = peer.TxBytes;
        RxPackets = peer.RxPackets;
        RxBytes = peer.RxBytes;
    }

    public Ipv4Subnet Subnet { get; }
    public Ipv4Address PublicIP { get; }
    /// <summary>When the peer's lease expires; null for a reservation.</summary>
    public DateTimeOffset? Expiration { get; }
    public long TxPackets { get; }
    public long TxBytes { get; }
    public long RxPackets { get; }
    public long RxBytes { get; }
}
