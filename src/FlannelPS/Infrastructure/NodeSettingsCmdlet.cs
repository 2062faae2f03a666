// The node's settings, shared by Start-FlannelNode (which runs a node with them) and
// Install-FlannelService (which writes them as flanneld flags for the service): one declaration, one
// validation, so the two cannot drift apart.
using System.Management.Automation;
using System.Net;
using FlannelPS.Core.Cli;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Node;

namespace FlannelPS.Infrastructure;

public abstract class NodeSettingsCmdlet : EtcdConnectionCmdlet
{
    /// <summary>Interface (name or IPv4 address) for inter-host traffic (flanneld -iface); several: the first that exists wins. Default: the default-route interface.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string[]? Interface { get; set; }

    /// <summary>Regular expression matched against this host's IPv4 addresses, then interface names (flanneld -iface-regex); several: tried in order after -Interface.</summary>
    [Parameter]
    public string[]? InterfaceRegex { get; set; }

    /// <summary>Use the interface this host routes the given IPv4 address through, as `ip route get` shows (flanneld -iface-can-reach); tried after -Interface and -InterfaceRegex.</summary>
    [Parameter]
    public string? InterfaceCanReach { get; set; }

    /// <summary>IP advertised to other nodes in the lease (-public-ip); default: the interface address.</summary>
    [Parameter]
    public string? PublicIP { get; set; }

    /// <summary>Install flannel's masquerade rules for traffic leaving the overlay (-ip-masq).</summary>
    [Parameter]
    public SwitchParameter IpMasq { get; set; }

    /// <summary>Where the node writes FLANNEL_NETWORK/SUBNET/MTU/IPMASQ (-subnet-file, default /run/flannel/subnet.env).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SubnetFile { get; set; } = NodeOptions.DefaultSubnetFile;

    /// <summary>Minutes before expiry to renew the lease (-subnet-lease-renew-margin, 1..1439, default 60).</summary>
    [Parameter]
    public int SubnetLeaseRenewMargin { get; set; } = 60;

    /// <summary>Seconds between iptables checks that restore deleted rules (-iptables-resync, default 5).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int IptablesResyncSec { get; set; } = 5;

    /// <summary>Do not install the FLANNEL-FWD ACCEPT rules (-iptables-forward-rules=false).</summary>
    [Parameter]
    public SwitchParameter NoIptablesForwardRules { get; set; }

    /// <summary>Port for the health server (-healthz-port): GET /healthz is 200 while the process runs, GET /readyz 200 once the node runs (else 503); 0 (default) disables.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int HealthzPort { get; set; }

    /// <summary>Address the health endpoint listens on (-healthz-ip, default 0.0.0.0: every address, as flanneld).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string HealthzIP { get; set; } = "0.0.0.0";

    /// <summary>These parameters as flanneld's settings (the etcd connection left at its defaults).
    /// Call on the pipeline thread: it resolves -SubnetFile against the current location.</summary>
    protected FlanneldSettings BuildFlanneldSettings() => new()
    {
        Iface = Interface ?? [],
        IfaceRegex = InterfaceRegex ?? [],
        IfaceCanReach = string.IsNullOrEmpty(InterfaceCanReach) ? null : InterfaceCanReach,
        PublicIP = PublicIP,
        IpMasq = IpMasq,
        SubnetFile = ResolvePath(SubnetFile),
        SubnetLeaseRenewMargin = SubnetLeaseRenewMargin,
        IptablesResync = IptablesResyncSec,
        IptablesForwardRules = !NoIptablesForwardRules,
        HealthzIP = HealthzIP,
        HealthzPort = HealthzPort,
    };

    /// <summary>
    /// The settings as a node runs them, through the one mapping flanneld uses too, checked as
    /// flanneld checks its flags (flannel's own message for the renew margin; the health address
    /// must be an IP).
    /// </summary>
    protected NodeOptions BuildNodeOptions()
    {
        if (!IPAddress.TryParse(HealthzIP, out _))
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new FlannelException("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument,
                $"-HealthzIP '{HealthzIP}' is not an IP address.", HealthzIP)));
        try { return FlanneldNodeMapping.ToNodeOptions(BuildFlanneldSettings()); }
        catch (FlannelException ex)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }
}
