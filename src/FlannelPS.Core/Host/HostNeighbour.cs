// A permanent IPv4 neighbour (ARP) entry: `<ip> lladdr <mac> dev <dev> PERMANENT`. vxlan writes one
// per peer so the kernel never has to resolve a peer's gateway address.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public sealed record HostNeighbour(string Device, Ip4 Address, MacAddress Mac) : HostEntry
{
    public override string? Device { get; } = Device;

    /// <summary>NUD_PERMANENT when written by FlannelPS; entries read back may be in another state.</summary>
    public bool Permanent { get; init; } = true;

    public override string ToString() => $"{Address} lladdr {Mac} dev {Device}{(Permanent ? " PERMANENT" : "")}";
}
