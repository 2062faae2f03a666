// What Test-FlannelNode emits: one object per check. Status is a string (Pass, Warning, Fail,
// Skip) so it compares, filters and serialises (ConvertTo-Json) as the word it is.
using FlannelPS.Core.Health;

namespace FlannelPS.Model;

public sealed class FlannelNodeCheck
{
    internal FlannelNodeCheck(HealthCheckResult result)
    {
        Name = result.Name;
        Status = result.Status.ToString();
        Message = result.Message;
        Target = result.Target;
    }

    /// <summary>Stable check name: SubnetFile, NetworkConfig, Lease, LeaseTtl, PeerRoute, IptablesForward, ...</summary>
    public string Name { get; }
    /// <summary>Pass, Warning, Fail or Skip.</summary>
    public string Status { get; }
    /// <summary>What was found, with the offending value, and what was expected.</summary>
    public string Message { get; }
    /// <summary>What the check looked at: a file, etcd key, device, peer subnet or iptables chain.</summary>
    public string? Target { get; }

    public override string ToString() => $"{Name} {Status}: {Message}";
}
