// One route of the udp backend: a peer's lease subnet and the UDP endpoint that carries it.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Backend.Udp.Datapath;

public sealed class PeerRoute(Ip4Net subnet, Ip4 publicIP, ushort port, PeerCounters counters)
{
    public Ip4Net Subnet { get; } = subnet;
    public Ip4 PublicIP { get; } = publicIP;
    public ushort Port { get; } = port;
    /// <summary>Kept across next-hop changes of the same subnet.</summary>
    public PeerCounters Counters { get; } = counters;
}
