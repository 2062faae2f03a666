// Get-FlannelSubnetLease: every lease and reservation under <prefix>/subnets.
using System.Management.Automation;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Get, "FlannelSubnetLease")]
[OutputType(typeof(FlannelSubnetLease))]
public sealed class GetFlannelSubnetLeaseCommand : EtcdCmdlet
{
    /// <summary>Lease subnet(s) to return, e.g. 10.0.72.0/24 or 10.0.7*; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SubnetLeaseCompleter))]
    public string[]? Subnet { get; set; }

    /// <summary>Only leases advertising this public IP.</summary>
    [Parameter]
    public string? PublicIP { get; set; }

    /// <summary>Only reservations (keys with no etcd lease).</summary>
    [Parameter]
    public SwitchParameter Reservation { get; set; }

    protected override void ProcessRecord()
    {
        // One registry for every record of the pipeline, opened here on the pipeline thread.
        var (options, registry) = InvocationRegistry();
        RunAsync(async ct =>
        {
            var snapshot = await registry.GetLeasesAsync(ct).ConfigureAwait(false);
            var patterns = Subnet?.Select(s => WildcardPattern.Get(s, WildcardOptions.IgnoreCase)).ToArray();
            foreach (var lease in snapshot.Leases.OrderBy(l => l.Subnet.Address))
            {
                var subnet = lease.Subnet.ToString();
                if (patterns is not null)
                {
                    if (!patterns.Any(p => p.IsMatch(subnet) || p.IsMatch(lease.Key))) continue;
                }
                if (PublicIP is not null && lease.Attrs.PublicIP.ToString() != PublicIP) continue;
                if (Reservation && !lease.IsReservation) continue;
                Emit(new FlannelSubnetLease(lease, options.SubnetsPrefix));
            }
            // A literal subnet that matched nothing is an error, as Get-Item would report it.
            foreach (var s in Subnet ?? [])
            {
                if (!WildcardPattern.ContainsWildcardCharacters(s) && !snapshot.Leases.Any(l => l.Subnet.ToString() == s || l.Key == s))
                    EmitError(new ErrorRecord(new ItemNotFoundException($"No subnet lease '{s}' under {options.SubnetsPrefix}."),
                        "FlannelSubnetLeaseNotFound", ErrorCategory.ObjectNotFound, s));
            }
        });
    }
}
