// The peer of a run of packets on one lane: a super-packet's segments share one destination, and a
// GRO receive's datagrams one source, so the route is looked up once per run of equal addresses and
// the run is added to the peer's counters in one interlocked step when the peer changes or the batch
// ends, not once per 1.4 KB packet. End closes the run and forgets the lookup, so a route-table
// change is seen from the next batch on. Owned by one lane thread; a field, used in place.
namespace FlannelPS.Core.Backend.Udp.Datapath;

internal struct PeerRun(bool received)
{
    private readonly bool _received = received;
    private uint _address;
    private PeerRoute? _route;
    private bool _known;
    private PeerRoute? _counting;
    private int _packets;
    private long _bytes;

    /// <summary>The route for <paramref name="address"/> (host order), asked of the table only when the address changes.</summary>
    public PeerRoute? Lookup(RouteTable routes, uint address)
    {
        if (!_known || address != _address)
        {
            _route = routes.Lookup(address);
            _address = address;
            _known = true;
        }
        return _route;
    }

    /// <summary>One packet of <paramref name="bytes"/> to or from <paramref name="route"/>'s peer.</summary>
    public void Count(PeerRoute route, int bytes)
    {
        if (!ReferenceEquals(route, _counting))
        {
            Publish();
            _counting = route;
        }
        _packets++;
        _bytes += bytes;
    }

    /// <summary>The batch is over: the counted run goes to its peer's counters.</summary>
    public void End()
    {
        Publish();
        _known = false;
        _route = null;
    }

    private void Publish()
    {
        if (_counting is { } r && _packets > 0)
        {
            if (_received) r.Counters.AddRx(_packets, _bytes);
            else r.Counters.AddTx(_packets, _bytes);
        }
        _counting = null;
        _packets = 0;
        _bytes = 0;
    }
}
