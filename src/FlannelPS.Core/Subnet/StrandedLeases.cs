// Which existing leases a new network config would strand: a lease whose subnet does not fit the
// config (other network, other SubnetLen, outside SubnetMin..SubnetMax) is one no node keeps — each
// owner takes a new subnet at its next start and its containers' addresses change.
using FlannelPS.Core.Config;

namespace FlannelPS.Core.Subnet;

public static class StrandedLeases
{
    /// <summary>The leases that do not fit <paramref name="next"/>, in address order.</summary>
    public static IReadOnlyList<Lease> By(NetworkConfig next, IEnumerable<Lease> leases) =>
        [.. leases.Where(l => !next.IsCompatible(l.Subnet)).OrderBy(l => l.Subnet)];

    /// <summary>A warning naming each stranded lease and its owner.</summary>
    public static string Describe(NetworkConfig next, IReadOnlyList<Lease> stranded) =>
        $"The new config (Network {next.Network}, SubnetLen {next.SubnetLen}, {next.SubnetMin} ... {next.SubnetMax}) strands {stranded.Count} existing lease(s): " +
        string.Join(", ", stranded.Select(l => $"{l.Subnet} (PublicIP {l.Attrs.PublicIP})")) +
        ". Their nodes will take new subnets when they restart.";
}
