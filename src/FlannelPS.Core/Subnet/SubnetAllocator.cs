// flannel's allocateSubnet: walk SubnetMin..SubnetMax, keep the first 100 subnets that overlap no
// existing lease, pick one uniformly at random. Pure: the registry state and Random come in.
using FlannelPS.Core.Config;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public static class SubnetAllocator
{
    public const int CandidateCap = 100;

    /// <summary>Returns a free subnet, or null when none is left ("out of subnets").</summary>
    public static Ip4Net? Allocate(NetworkConfig config, IReadOnlyList<Ip4Net> taken, Random random)
    {
        Span<Ip4Net> candidates = new Ip4Net[CandidateCap];
        var count = 0;
        var sn = new Ip4Net(config.SubnetMin, config.SubnetLen);
        while (sn.Address <= config.SubnetMax && count < CandidateCap)
        {
            if (!OverlapsAny(sn, taken)) candidates[count++] = sn;
            var next = sn.Next();
            if (next.Address.Value < sn.Address.Value) break; // wrapped past 255.255.255.255
            sn = next;
        }
        return count == 0 ? null : candidates[random.Next(count)];
    }

    public static bool OverlapsAny(Ip4Net subnet, IReadOnlyList<Ip4Net> taken)
    {
        for (var i = 0; i < taken.Count; i++)
            if (subnet.Overlaps(taken[i])) return true;
        return false;
    }
}
