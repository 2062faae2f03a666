// What a node is told at start: flanneld's flags, minus the etcd connection (the registry comes in).
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Node;

public sealed record NodeOptions
{
    public const string DefaultSubnetFile = "/run/flannel/subnet.env";

    /// <summary>Interface names or IPv4 addresses (--iface, repeatable: the first that resolves wins); empty selects the default-route interface.</summary>
    public IReadOnlyList<string> Interfaces { get; init; } = [];
    /// <summary>Regular expressions matched against this host's IPv4 addresses, then its interface names
    /// (--iface-regex, repeatable), tried when no Interfaces entry resolves.</summary>
    public IReadOnlyList<string> InterfaceRegexes { get; init; } = [];
    /// <summary>An IPv4 address: use the interface (and source address) the kernel routes it through
    /// (--iface-can-reach), tried after Interfaces and InterfaceRegexes.</summary>
    public string? InterfaceCanReach { get; init; }
    /// <summary>Address advertised in the lease (--public-ip); null uses the interface address.</summary>
    public string? PublicIP { get; init; }
    public bool IpMasq { get; init; }
    public string SubnetFile { get; init; } = DefaultSubnetFile;
    /// <summary>Renew at expiration minus this (--subnet-lease-renew-margin, minutes 1..1439).</summary>
    public TimeSpan RenewMargin { get; init; } = LeaseRenewer.DefaultMargin;
    public bool IptablesForwardRules { get; init; } = true;
    public TimeSpan IptablesResync { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Where to serve GET /healthz and /readyz (--healthz-ip/--healthz-port); null: no server.</summary>
    public System.Net.IPEndPoint? HealthzEndpoint { get; init; }
    /// <summary>Send systemd READY=1 once subnet.env is written, when NOTIFY_SOCKET is set.</summary>
    public bool NotifySystemd { get; init; } = true;
    /// <summary>How often a missing or invalid config is retried (flannel: 1 s).</summary>
    public TimeSpan ConfigRetry { get; init; } = TimeSpan.FromSeconds(1);
}
