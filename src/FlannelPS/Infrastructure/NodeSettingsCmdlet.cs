// The node's settings, shared by Start-FlannelNode (which runs a node with them) and
// Install-FlannelService (which writes them as flanneld flags for the service): one declaration, one
// validation, so the two cannot drift apart.
using System.Management.Automation;
using System.Net;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Node;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Infrastructure;

public abstract class NodeSettingsCmdlet : EtcdConnectionCmdlet
{
    /// <summary>Interface (name or IPv4 address) for inter-host traffic (flanneld -iface); several: the first that exists wins. Default: the default-route interface.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string[]? Interface { get; set; }

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

    /// <summary>Port for GET /healthz (200 while the lease is held and the datapath runs, else 503) (-healthz-port); 0 (default) disables.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int HealthzPort { get; set; }

    /// <summary>Address the health endpoint listens on (-healthz-ip, default 127.0.0.1).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string HealthzIP { get; set; } = "127.0.0.1";

    /// <summary>
    /// The settings as a node runs them, checked as flanneld checks its flags (flannel's own message
    /// for the renew margin; the health address must be an IP). Call on the pipeline thread: it resolves
    /// -SubnetFile against the current location.
    /// </summary>
    protected NodeOptions BuildNodeOptions()
    {
        var margin = TimeSpan.FromMinutes(SubnetLeaseRenewMargin);
        try { LeaseRenewer.ValidateMargin(margin); }
        catch (FlannelException ex) { ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex)); }
        if (!IPAddress.TryParse(HealthzIP, out var healthzIP))
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new FlannelException("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument,
                $"-HealthzIP '{HealthzIP}' is not an IP address.", HealthzIP)));
        return new NodeOptions
        {
            Interfaces = Interface ?? [],
            PublicIP = PublicIP,
            IpMasq = IpMasq,
            SubnetFile = ResolvePath(SubnetFile),
            RenewMargin = margin,
            IptablesForwardRules = !NoIptablesForwardRules,
            IptablesResync = TimeSpan.FromSeconds(IptablesResyncSec),
            HealthzEndpoint = HealthzPort > 0 ? new IPEndPoint(healthzIP!, HealthzPort) : null,
        };
    }
}
