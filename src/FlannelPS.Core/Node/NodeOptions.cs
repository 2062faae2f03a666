// What a node is told at start: flanneld's flags, minus the etcd connection (the registry comes in).
namespace FlannelPS.Core.Node;

public sealed record NodeOptions
{
    public const string DefaultSubnetFile = "/run/flannel/subnet.env";

    /// <summary>Interface name or IPv4 address (--iface); null selects the default-route interface.</summary>
    public string? Interface { get; init; }
    /// <summary>Address advertised in the lease (--public-ip); null uses the interface address.</summary>
    public string? PublicIP { get; init; }
    public bool IpMasq { get; init; }
    public string SubnetFile { get; init; } = DefaultSubnetFile;
    /// <summary>Renew at expiration minus this (--subnet-lease-renew-margin, minutes 1..1439).</summary>
    public TimeSpan RenewMargin { get; init; } = TimeSpan.FromMinutes(60);
    public bool IptablesForwardRules { get; init; } = true;
    public TimeSpan IptablesResync { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How often a missing or invalid config is retried (flannel: 1 s).</summary>
    public TimeSpan ConfigRetry { get; init; } = TimeSpan.FromSeconds(1);
}
