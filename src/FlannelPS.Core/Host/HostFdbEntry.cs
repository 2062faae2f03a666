// A forwarding-database entry of a vxlan device: `<mac> dst <underlay ip> dev <dev> self permanent`,
// which tells the kernel which host a peer's VTEP MAC lives on.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public sealed record HostFdbEntry(string Device, MacAddress Mac, Ip4 Destination) : HostEntry
{
    public override string? Device { get; } = Device;

    public override string ToString() => $"{Mac} dst {Destination} dev {Device} self permanent";
}
