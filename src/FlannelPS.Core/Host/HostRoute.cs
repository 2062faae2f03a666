// An IPv4 route of the main table: `<dst> [via <gw>] [dev <dev>] [onlink]`.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

/// <param name="Type">"unicast", or the kernel's type for others: blackhole, unreachable, prohibit, local…</param>
public sealed record HostRoute(Ip4Net Destination, string? Device, Ip4? Gateway, string Type = "unicast") : HostEntry
{
    public override string? Device { get; } = Device;

    /// <summary>The gateway is reachable through Device without a covering route (RTNH_F_ONLINK), as vxlan's routes are.</summary>
    public bool OnLink { get; init; }

    /// <summary>The preferred source address (`src`), when the kernel reports one; not part of the route's identity here.</summary>
    public Ip4? Source { get; init; }

    public bool IsUnicast => Type == "unicast";

    /// <summary>As `ip route` prints it, for messages.</summary>
    public override string ToString()
    {
        var dst = Destination.PrefixLength == 0 ? "default" : Destination.ToString();
        var text = IsUnicast ? dst : $"{Type} {dst}";
        if (Gateway is { } gw) text += $" via {gw}";
        if (Device is not null) text += $" dev {Device}";
        if (OnLink) text += " onlink";
        return text;
    }
}
