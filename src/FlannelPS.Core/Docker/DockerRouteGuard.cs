// The route guard current flannel's mk-docker-opts.sh runs after writing its file: when the routing
// table already has a route through a gateway ("via") to this node's subnet, Docker's bridge would
// be shadowed, so it reports "Your routing table already contains the subnet: <subnet>" and exits 1.
// The subnet is FLANNEL_SUBNET with its last octet lowered by one (10.0.72.1/24 -> 10.0.72.0/24).
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Docker;

public static class DockerRouteGuard
{
    public const string ErrorId = "FlannelSubnetRouteExists";

    /// <summary>The subnet text the guard looks for, or null when FLANNEL_SUBNET is absent or not a.b.c.d/len.</summary>
    public static string? GuardedSubnet(string? flannelSubnet)
    {
        if (string.IsNullOrEmpty(flannelSubnet)) return null;
        var slash = flannelSubnet.IndexOf('/');
        var address = slash < 0 ? flannelSubnet : flannelSubnet[..slash];
        var dot = address.LastIndexOf('.');
        if (dot < 0 || !int.TryParse(address[(dot + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var last) || last < 1)
            return null;
        return address[..(dot + 1)] + (last - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + (slash < 0 ? "" : flannelSubnet[slash..]);
    }

    /// <summary>The error when <paramref name="routes"/> has a route through a gateway to the guarded subnet, else null.</summary>
    public static FlannelException? Check(string? flannelSubnet, IEnumerable<HostRoute> routes)
    {
        if (GuardedSubnet(flannelSubnet) is not { } subnet || !Ip4Net.TryParse(subnet, out var guarded)) return null;
        foreach (var route in routes)
            if (route.Gateway is not null && route.Destination == guarded)
                return new FlannelException(ErrorId, FlannelErrorCategory.ResourceExists,
                    $"Your routing table already contains the subnet: {subnet}", route.ToString());
        return null;
    }

    /// <summary>Checks the main routing table of the calling thread's namespace.</summary>
    public static FlannelException? Check(string? flannelSubnet, IHostNetwork host) =>
        GuardedSubnet(flannelSubnet) is null ? null : Check(flannelSubnet, host.GetRoutes());
}
