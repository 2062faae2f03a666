// Start-FlannelNode: runs a flannel node in this process. By default it returns a job that hosts
// the node for the life of the session; -Wait runs the same node in the foreground until Ctrl+C
// or SIGTERM, for services.
using System.Management.Automation;
using System.Runtime.InteropServices;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Node;
using FlannelPS.Infrastructure;
using FlannelPS.Jobs;

namespace FlannelPS.Commands;

[Cmdlet(VerbsLifecycle.Start, "FlannelNode", SupportsShouldProcess = true, DefaultParameterSetName = JobSet)]
[OutputType(typeof(FlannelNodeJob), ParameterSetName = [JobSet])]
[OutputType(typeof(NodeEvent), ParameterSetName = [WaitSet])]
public sealed class StartFlannelNodeCommand : NodeSettingsCmdlet
{
    private const string JobSet = "Job";
    private const string WaitSet = "Wait";

    /// <summary>Seconds each etcd request may take before it fails (default 5).</summary>
    [Parameter]
    [ValidateRange(1, 300)]
    public int EtcdTimeoutSec { get; set; } = 5;

    protected override TimeSpan RequestTimeout => TimeSpan.FromSeconds(EtcdTimeoutSec);

    /// <summary>Job name (default FlannelNode).</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "FlannelNode";

    /// <summary>Run in the foreground until Ctrl+C or SIGTERM, writing node events as they happen.</summary>
    [Parameter(Mandatory = true, ParameterSetName = WaitSet)]
    public SwitchParameter Wait { get; set; }

    protected override void ProcessRecord()
    {
        var options = BuildNodeOptions();
        var etcd = BuildEtcdOptions();
        // What can be known now is checked now (and under -WhatIf too): a bad -PublicIP or -Interface,
        // not root, no TUN, the udp port taken. The job would only fail with it seconds later.
        var config = TryReadConfig(etcd);
        Checked(() => NodePreflight.Check(options, config));
        if (!ShouldProcess($"{etcd.SubnetsPrefix} at {etcd.EndpointList}, {options.SubnetFile}", "Start flannel node")) return;

        if (Wait) RunInForeground(options, etcd);
        else StartJob(options, etcd);
    }

    // The network config if etcd answers quickly; null when it does not (yet): the node waits for it.
    // A malformed endpoint or TLS setting is an error the node would only repeat, so it is thrown.
    private NetworkConfig? TryReadConfig(Core.Registry.EtcdOptions etcd)
    {
        NetworkConfig? config = null;
        var quick = etcd with { RequestTimeout = TimeSpan.FromTicks(Math.Min(etcd.RequestTimeout.Ticks, ConfigProbeTimeout.Ticks)) };
        var registry = Checked(() => new EtcdSubnetRegistry(quick));
        RunAsync(async ct =>
        {
            await using (registry.ConfigureAwait(false))
            {
                try { config = await new SubnetManager(registry, Random.Shared, NullLog.Instance).GetNetworkConfigAsync(ct).ConfigureAwait(false); }
                catch (FlannelException) { } // unavailable, absent or invalid: the node reports and retries it
            }
        });
        return config;
    }

    private static readonly TimeSpan ConfigProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The datapath's settings, from the FLANNELPS_DATAPATH_* variables.</summary>
    private static UdpDatapathTuning DatapathTuning() => UdpDatapathTuning.FromVariables(Environment.GetEnvironmentVariable);

    private void StartJob(NodeOptions options, Core.Registry.EtcdOptions etcd)
    {
        var log = new DeferredLog();
        var node = FlannelNodeFactory.Create(options, etcd, log, DatapathTuning());
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
        var node = FlannelNodeFactory.Create(options, etcd, new CmdletLog(this), DatapathTuning());
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
