// What Get-FlannelNetworkConfig emits: the effective values (defaults applied) and the raw JSON. It
// carries where it was read, so piping it into Set-FlannelNetworkConfig writes it back there.
using FlannelPS.Core.Config;
using FlannelPS.Core.Registry;

namespace FlannelPS.Model;

public sealed class FlannelNetworkConfig
{
    internal FlannelNetworkConfig(NetworkConfig config, EtcdOptions origin)
    {
        var key = origin.ConfigKey;
        var endpoints = origin.EndpointList;
        EtcdPrefix = origin.CleanPrefix;
        EtcdEndpoint = [.. origin.Endpoints];
        Network = config.Network.ToString();
        SubnetLen = config.SubnetLen;
        SubnetMin = config.SubnetMin.ToString();
        SubnetMax = config.SubnetMax.ToString();
        BackendType = config.BackendType;
        Backend = config.BackendJson;
        SubnetCount = config.SubnetCount;
        Json = config.RawJson;
        Key = key;
        Endpoints = endpoints;
    }

    public string Network { get; }
    public int SubnetLen { get; }
    public string SubnetMin { get; }
    public string SubnetMax { get; }
    public string BackendType { get; }
    /// <summary>The Backend object as raw JSON (null when absent: udp).</summary>
    public string? Backend { get; }
    /// <summary>How many subnets SubnetMin..SubnetMax holds.</summary>
    public long SubnetCount { get; }
    /// <summary>The config exactly as stored.</summary>
    public string Json { get; }
    public string Key { get; }
    public string Endpoints { get; }
    /// <summary>The network's key prefix the config was read under.</summary>
    public string EtcdPrefix { get; }
    /// <summary>The etcd endpoints the config was read from.</summary>
    public string[] EtcdEndpoint { get; }
}
