// The effective network config: what flannel computes from <prefix>/config after defaults.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Config;

public sealed record NetworkConfig
{
    public required Ip4Net Network { get; init; }
    public required int SubnetLen { get; init; }
    public required Ip4 SubnetMin { get; init; }
    public required Ip4 SubnetMax { get; init; }
    /// <summary>Lower-cased backend type; "udp" when the Backend key is absent.</summary>
    public required string BackendType { get; init; }
    /// <summary>The Backend object as raw JSON, or null when absent.</summary>
    public string? BackendJson { get; init; }
    /// <summary>The config value exactly as stored in etcd.</summary>
    public required string RawJson { get; init; }

    /// <summary>True when a lease subnet fits this config (flannel's isSubnetCompatible).</summary>
    public bool IsCompatible(Ip4Net subnet) =>
        subnet.PrefixLength == SubnetLen && subnet.Address >= SubnetMin && subnet.Address <= SubnetMax;

    /// <summary>Number of subnets between SubnetMin and SubnetMax inclusive.</summary>
    public long SubnetCount => SubnetMax < SubnetMin ? 0 : ((long)SubnetMax.Value - SubnetMin.Value) / (1L << (32 - SubnetLen)) + 1;
}
