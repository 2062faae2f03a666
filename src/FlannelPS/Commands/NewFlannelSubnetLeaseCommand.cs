// New-FlannelSubnetLease: runs flannel's acquire algorithm once for a public IP, or writes a
// reservation (a subnet key with no etcd lease, never re-leased or expired).
using System.Management.Automation;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Node;
using FlannelPS.Core.Subnet;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.New, "FlannelSubnetLease", SupportsShouldProcess = true, DefaultParameterSetName = LeaseSet)]
[OutputType(typeof(FlannelSubnetLease))]
public sealed class NewFlannelSubnetLeaseCommand : EtcdCmdlet
{
    private const string LeaseSet = "Lease";
    private const string ReservationSet = "Reservation";

    /// <summary>The node's public IP: its identity in the registry.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string PublicIP { get; set; } = null!;

    /// <summary>Write a reservation for -Subnet instead of leasing.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ReservationSet)]
    public SwitchParameter Reservation { get; set; }

    /// <summary>The subnet to reserve, e.g. 10.0.9.0/24 (must fit the network config).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ReservationSet)]
    [ValidateNotNullOrEmpty]
    public string Subnet { get; set; } = null!;

    /// <summary>The subnet to prefer (as a previous subnet.env would); used if free.</summary>
    [Parameter(ParameterSetName = LeaseSet)]
    public string? PreferredSubnet { get; set; }

    protected override void ProcessRecord()
    {
        // This invocation's registry, made here on the pipeline thread (it connects on first use).
        var (options, registry) = InvocationRegistry();
        RunAsync(async ct =>
        {
            var publicIp = PublicIPOption.Parse(PublicIP)!.Value;
            var manager = new SubnetManager(registry, Random.Shared, new CmdletLog(this));
            var config = await manager.GetNetworkConfigAsync(ct).ConfigureAwait(false);
            var attrs = new LeaseAttrs(publicIp);
            Lease? lease;
            if (Reservation)
            {
                var subnet = ParseSubnet(Subnet, nameof(Subnet));
                lease = await manager.ReserveAsync(config, subnet, attrs,
                    () => Confirm(options.SubnetsPrefix + SubnetKey.Make(subnet), $"Reserve for {publicIp}"), ct).ConfigureAwait(false);
                if (lease is null) return;
            }
            else
            {
                var preferred = PreferredSubnet is null ? (Ip4Net?)null : ParseSubnet(PreferredSubnet, nameof(PreferredSubnet));
                if (!Confirm($"{options.SubnetsPrefix} at {options.EndpointList}", $"Acquire a subnet lease for {publicIp}")) return;
                lease = await manager.AcquireLeaseAsync(config, attrs, preferred, ct).ConfigureAwait(false);
            }
            Emit(new FlannelSubnetLease(lease, options));
        });
    }

    private static Ip4Net ParseSubnet(string text, string name) =>
        Ip4Net.TryParse(text, out var net, out var ip) && ip == net.Address
            ? net
            : throw new FlannelException("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument, $"-{name} '{text}' is not a subnet in CIDR form with no host bits, e.g. 10.0.9.0/24.", text);
}
