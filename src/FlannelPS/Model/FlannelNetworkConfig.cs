// What Get-FlannelNetworkConfig emits: the effective values (defaults applied) and the raw JSON.
using FlannelPS.Core.Config;

namespace FlannelPS.Model;

public sealed class FlannelNetworkConfig
{
    internal FlannelNetworkConfig(NetworkConfig config, string key, string endpoints)
    {
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
}
