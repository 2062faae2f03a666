// What Test-FlannelNode is told about the node it checks; everything else it reads from the node's
// own subnet.env, the etcd config and lease, and the kernel.
using FlannelPS.Core.Files;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Health;

public sealed record NodeHealthOptions
{
    public string SubnetFile { get; init; } = SubnetEnvFile.DefaultPath;
    /// <summary>The etcd key of the config, for messages and targets.</summary>
    public string ConfigKey { get; init; } = "/coreos.com/network/config";
    /// <summary>The etcd key prefix of the leases (ends in '/'), for targets.</summary>
    public string SubnetsPrefix { get; init; } = "/coreos.com/network/subnets/";
    /// <summary>The node's renew margin: a lease with less time left than this should have been renewed.</summary>
    public TimeSpan RenewMargin { get; init; } = LeaseRenewer.DefaultMargin;
    /// <summary>The overlay device; null derives it from the backend (udp: flannel0, vxlan: flannel.VNI).</summary>
    public string? Device { get; init; }
    /// <summary>The node's public IP; null: the lease's PublicIP must be an address of this host.</summary>
    public Ip4? PublicIP { get; init; }
    /// <summary>Expect the masquerade rules; null takes FLANNEL_IPMASQ from subnet.env.</summary>
    public bool? IpMasq { get; init; }
    /// <summary>Expect the FLANNEL-FWD rules (false for a node run with --iptables-forward-rules=false).</summary>
    public bool ForwardRules { get; init; } = true;
    /// <summary>Whether the checks run as root; listing iptables rules needs it, so without root those checks are skipped, never failed.</summary>
    public bool IsRoot { get; init; } = true;
    /// <summary>Ping each peer's overlay address.</summary>
    public bool Ping { get; init; }
    /// <summary>Echo requests per peer at most (stops at the first reply).</summary>
    public int PingCount { get; init; } = 3;
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(1);
}
