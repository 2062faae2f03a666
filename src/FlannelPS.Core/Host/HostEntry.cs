// The kernel objects the backends program per peer: routes, neighbour (ARP) entries and bridge
// forwarding-database entries. A batch of HostChanges applies many of them in one round trip.
namespace FlannelPS.Core.Host;

public abstract record HostEntry
{
    /// <summary>The link the entry belongs to (a route's output device).</summary>
    public abstract string? Device { get; }
}
