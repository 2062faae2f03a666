// Start-FlannelNode: runs a flannel node in this process. By default it returns a job that hosts
// the node for the life of the session; -Wait runs the same node in the foreground until Ctrl+C
// or SIGTERM, for services.
using System.Management.Automation;
using System.Net;
using System.Runtime.InteropServices;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Node;
using FlannelPS.Core.Subnet;
using FlannelPS.Infrastructure;
using FlannelPS.Jobs;

namespace FlannelPS.Commands;

[Cmdlet(VerbsLifecycle.Start, "FlannelNode", SupportsShouldProcess = true, DefaultParameterSetName = JobSet)]
[OutputType(typeof(FlannelNodeJob), ParameterSetName = [JobSet])]
[OutputType(typeof(NodeEvent), ParameterSetName = [WaitSet])]
public sealed class StartFlannelNodeCommand : EtcdCmdlet
{
    private const string JobSet = "Job";
    private const string WaitSet = "Wait";

    /// <summary>Interface (name or IPv4 address) for inter-host traffic; several: the first that exists wins. Default: the default-route interface.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string[]? Interface { get; set; }

    /// <summary>IP advertised to other nodes in the lease; default: the interface address.</summary>
    [Parameter]
    public string? PublicIP { get; set; }

    /// <summary>Install flannel's masquerade rules for traffic leaving the overlay (--ip-masq).</summary>
    [Parameter]
    public SwitchParameter IpMasq { get; set; }

    /// <summary>Where to write FLANNEL_NETWORK/SUBNET/MTU/IPMASQ (default /run/flannel/subnet.env).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SubnetFile { get; set; } = NodeOptions.DefaultSubnetFile;

    /// <summary>Minutes before expiry to renew the lease (1..1439, default 60).</summary>
    [Parameter]
    public int SubnetLeaseRenewMargin { get; set; } = 60;

    /// <summary>Seconds between iptables checks that restore deleted rules (default 5).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int IptablesResyncSec { get; set; } = 5;

    /// <summary>Do not install the FLANNEL-FWD ACCEPT rules (--iptables-forward-rules=false).</summary>
    [Parameter]
    public SwitchParameter NoIptablesForwardRules { get; set; }

    /// <summary>Port for GET /healthz (200 while the lease is held and the datapath runs, else 503); 0 disables.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int HealthzPort { get; set; }

    /// <summary>Address the health endpoint listens on (default 127.0.0.1).</summary>
    [Parameter]
    public string HealthzIP { get; set; } = "127.0.0.1";

    /// <summary>Job name (default FlannelNode).</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "FlannelNode";

    /// <summary>Run in the foreground until Ctrl+C or SIGTERM, writing node events as they happen.</summary>
    [Parameter(Mandatory = true, ParameterSetName = WaitSet)]
    public SwitchParameter Wait { get; set; }

    protected override void ProcessRecord()
    {
        try { LeaseRenewer.ValidateMargin(TimeSpan.FromMinutes(SubnetLeaseRenewMargin)); }
        catch (FlannelException ex) { ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex)); }
        var options = new NodeOptions
        {
            Interfaces = Interface ?? [],
            PublicIP = PublicIP,
            IpMasq = IpMasq,
            SubnetFile = ResolvePath(SubnetFile),
            RenewMargin = TimeSpan.FromMinutes(SubnetLeaseRenewMargin),
            IptablesForwardRules = !NoIptablesForwardRules,
            IptablesResync = TimeSpan.FromSeconds(IptablesResyncSec),
            HealthzEndpoint = HealthzPort > 0 ? new IPEndPoint(ParseHealthzIP(), HealthzPort) : null,
        };
        var etcd = BuildEtcdOptions();
        if (!ShouldProcess($"{etcd.SubnetsPrefix} at {etcd.EndpointList}, {options.SubnetFile}", "Start flannel node")) return;

        if (Wait) RunInForeground(options, etcd);
        else StartJob(options, etcd);
    }

    private IPAddress ParseHealthzIP() =>
        IPAddress.TryParse(HealthzIP, out var ip)
            ? ip
            : throw new PSArgumentException($"-HealthzIP '{HealthzIP}' is not an IP address.", nameof(HealthzIP));

    private void StartJob(NodeOptions options, Core.Registry.EtcdOptions etcd)
    {
        var log = new DeferredLog();
        var node = FlannelNodeFactory.Create(options, etcd, log);
        var job = new FlannelNodeJob(MyInvocation.Line, Name, node);
        log.Target = job;
        // As ThreadJob does: the session's job repository makes Get-Job, Receive-Job, Stop-Job,
        // Wait-Job and Remove-Job work with no job source adapter to register.
        JobRepository.Add(job);
        job.StartJob();
        WriteObject(job);
    }

    private void RunInForeground(NodeOptions options, Core.Registry.EtcdOptions etcd)
    {
        var node = FlannelNodeFactory.Create(options, etcd, new CmdletLog(this));
        node.EventRaised += Emit;
        // SIGTERM/SIGINT end the node like a normal return, so services see exit code 0.
        using var signalled = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        RunAsync(async ct =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, signalled.Token);
            await node.RunAsync(linked.Token).ConfigureAwait(false);
        });

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // stop cleanly instead of the runtime's default exit
            signalled.Cancel();
        }
    }
}
