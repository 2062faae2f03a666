// The route guard current flannel's mk-docker-opts.sh runs after writing its file: when the routing
// table already has a route through a gateway ("via") to this node's subnet, Docker's bridge would
// be shadowed, so it reports "Your routing table already contains the subnet: <subnet>" and exits 1.
// The subnet is FLANNEL_SUBNET with its last octet lowered by one (10.0.72.1/24 -> 10.0.72.0/24).
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;

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

    /// <summary>The error for <paramref name="ipRouteShow"/> (the output of `ip route show`), or null when no via-route has the subnet.</summary>
    public static FlannelException? Check(string? flannelSubnet, string ipRouteShow)
    {
        if (GuardedSubnet(flannelSubnet) is not { } subnet) return null;
        foreach (var line in ipRouteShow.Split('\n'))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Contains(subnet) && words.Contains("via"))
                return new FlannelException(ErrorId, FlannelErrorCategory.ResourceExists,
                    $"Your routing table already contains the subnet: {subnet}", line.Trim());
        }
        return null;
    }

    /// <summary>Reads the main routing table of the calling thread's namespace (as `ip route show` prints it) and checks it.</summary>
    public static FlannelException? Check(string? flannelSubnet, IHostNetwork host) =>
        GuardedSubnet(flannelSubnet) is null ? null : Check(flannelSubnet, string.Join('\n', host.GetRoutes().Select(r => r.ToString())));
}
