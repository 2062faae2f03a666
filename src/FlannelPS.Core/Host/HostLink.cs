// The kernel state the node checks and the Docker bridge step read: links with their kind, MTU and
// IPv4 addresses, and the main routing table. Addresses keep the host part as configured (192.0.2.11/24, not 192.0.2.0/24).
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public readonly record struct HostAddress(Ip4 Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}

/// <param name="IsUp">Administratively up (the UP flag); a TUN's operstate is UNKNOWN even when it works.</param>
/// <param name="Kind">The link's kind ("bridge", "tun", "veth"…) when read with details (`ip -d`); null for a plain device or when not read.</param>
public sealed record HostLink(string Name, bool IsUp, int Mtu, IReadOnlyList<HostAddress> Addresses, string? Kind = null);

/// <param name="Type">"unicast", or the kernel's type for others: blackhole, unreachable, prohibit, local…</param>
public sealed record HostRoute(Ip4Net Destination, string? Device, Ip4? Gateway, string Type = "unicast")
{
    public bool IsUnicast => Type == "unicast";

    /// <summary>As `ip route` prints it, for messages.</summary>
    public override string ToString()
    {
        var dst = Destination.PrefixLength == 0 ? "default" : Destination.ToString();
        var text = IsUnicast ? dst : $"{Type} {dst}";
        if (Gateway is { } gw) text += $" via {gw}";
        if (Device is not null) text += $" dev {Device}";
        return text;
    }
}

/// <summary>Reads links and routes of the calling process's network namespace.</summary>
public interface IHostNetwork
{
    IReadOnlyList<HostLink> GetLinks();
    IReadOnlyList<HostRoute> GetRoutes();
}
