// Which route the kernel's main table uses for a destination: longest prefix wins. Metrics and
// policy rules are ignored; flannel only ever installs plain main-table routes.
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Health;

public static class RouteLookup
{
    public static HostRoute? Find(IReadOnlyList<HostRoute> routes, Ip4 destination)
    {
        HostRoute? best = null;
        foreach (var r in routes)
        {
            if (!r.Destination.Contains(destination)) continue;
            if (best is null || r.Destination.PrefixLength > best.Destination.PrefixLength) best = r;
        }
        return best;
    }

    /// <summary>Routes strictly more specific than <paramref name="subnet"/> that carve part of it away.</summary>
    public static IEnumerable<HostRoute> Inside(IReadOnlyList<HostRoute> routes, Ip4Net subnet) =>
        routes.Where(r => r.Destination.PrefixLength > subnet.PrefixLength && subnet.Contains(r.Destination.Address));
}
