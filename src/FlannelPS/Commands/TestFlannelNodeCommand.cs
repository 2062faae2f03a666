// Test-FlannelNode: checks the flannel node of this host (subnet.env, its etcd lease, flannel0,
// routes to every peer, iptables, optionally ICMP to each peer) and emits one result per check,
// or with -Quiet a single boolean. The checks live in Core (NodeHealthChecker).
using System.Management.Automation;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;
using FlannelPS.Core.Health;
using FlannelPS.Core.Host;
using FlannelPS.Core.Iptables;
using FlannelPS.Core.Net;
using FlannelPS.Core.Node;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsDiagnostic.Test, "FlannelNode")]
[OutputType(typeof(FlannelNodeCheck), typeof(bool))]
public sealed class TestFlannelNodeCommand : EtcdCmdlet
{
    /// <summary>The node's subnet.env (default /run/flannel/subnet.env).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string SubnetFile { get; set; } = SubnetEnvFile.DefaultPath;

    /// <summary>The node's renew margin in minutes (1..1439, default 60): a lease with less left has not been renewed.</summary>
    [Parameter]
    [ValidateRange(1, 1439)]
    public int SubnetLeaseRenewMargin { get; set; } = 60;

    /// <summary>The overlay device; default from the backend (udp: flannel0, vxlan: flannel.VNI).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string? Device { get; set; }

    /// <summary>The node's public IP; default: the lease's PublicIP must be an address of this host.</summary>
    [Parameter]
    public string? PublicIP { get; set; }

    /// <summary>Expect (or with -IpMasq:$false, not check) the masquerade rules; default: FLANNEL_IPMASQ from subnet.env.</summary>
    [Parameter]
    public SwitchParameter IpMasq { get; set; }

    /// <summary>The node runs without the FLANNEL-FWD rules (--iptables-forward-rules=false): do not check them.</summary>
    [Parameter]
    public SwitchParameter NoIptablesForwardRules { get; set; }

    /// <summary>Also send ICMP echo to each peer's overlay address (its flannel0 address).</summary>
    [Parameter]
    public SwitchParameter Ping { get; set; }

    /// <summary>Echo requests per peer at most, stopping at the first reply (1..10, default 3).</summary>
    [Parameter]
    [ValidateRange(1, 10)]
    public int PingCount { get; set; } = 3;

    /// <summary>Seconds to wait for each echo reply (1..10, default 1).</summary>
    [Parameter]
    [ValidateRange(1, 10)]
    public int PingTimeoutSec { get; set; } = 1;

    /// <summary>Return only $true (no check failed; warnings and skips allowed) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        Ip4? publicIp = null;
        try { publicIp = PublicIPOption.Parse(PublicIP); }
        catch (FlannelException ex) { ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex)); }
        var (etcd, registry) = InvocationRegistry();
        var options = new NodeHealthOptions
        {
            SubnetFile = ResolvePath(SubnetFile),
            ConfigKey = etcd.ConfigKey,
            SubnetsPrefix = etcd.SubnetsPrefix,
            RenewMargin = TimeSpan.FromMinutes(SubnetLeaseRenewMargin),
            Device = Device,
            PublicIP = publicIp,
            IpMasq = MyInvocation.BoundParameters.ContainsKey(nameof(IpMasq)) ? IpMasq.IsPresent : null,
            ForwardRules = !NoIptablesForwardRules,
            IsRoot = Core.Host.HostPrerequisites.RunningAsRoot,
            Ping = Ping,
            PingCount = PingCount,
            PingTimeout = TimeSpan.FromSeconds(PingTimeoutSec),
        };
        var healthy = true;
        RunAsync(async ct =>
        {
            var checker = new NodeHealthChecker(registry, new RtnetlinkHostNetwork(), new ProcessIptablesRunner(), new SystemPinger());
            await foreach (var result in checker.RunAsync(options, ct).ConfigureAwait(false))
            {
                if (result.Status == HealthStatus.Fail) healthy = false;
                if (Quiet) EmitVerbose(new FlannelNodeCheck(result).ToString());
                else Emit(new FlannelNodeCheck(result));
            }
        });
        if (Quiet) WriteObject(healthy);
    }
}
