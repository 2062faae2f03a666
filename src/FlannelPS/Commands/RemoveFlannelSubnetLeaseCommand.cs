// Remove-FlannelSubnetLease: deletes lease keys (or reservations), by subnet or from the pipeline.
using System.Management.Automation;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Remove, "FlannelSubnetLease", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveFlannelSubnetLeaseCommand : EtcdCmdlet
{
    /// <summary>Subnet(s) whose key to delete, e.g. 10.0.72.0/24; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SubnetLeaseCompleter))]
    public string[] Subnet { get; set; } = null!;

    /// <summary>Skip the confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        // One registry for every record of the pipeline, opened here on the pipeline thread.
        var (options, registry) = InvocationRegistry();
        RunAsync(async ct =>
        {
            IReadOnlyList<Lease>? all = null;
            foreach (var s in Subnet)
            {
                var targets = new List<Ip4Net>();
                if (WildcardPattern.ContainsWildcardCharacters(s))
                {
                    all ??= (await registry.GetLeasesAsync(ct).ConfigureAwait(false)).Leases;
                    var pattern = WildcardPattern.Get(s, WildcardOptions.IgnoreCase);
                    targets.AddRange(all.Where(l => pattern.IsMatch(l.Subnet.ToString())).Select(l => l.Subnet));
                }
                else if (Ip4Net.TryParse(s, out var net) || SubnetKey.TryParse(s, out net))
                {
                    targets.Add(net);
                }
                else
                {
                    EmitError(new ErrorRecord(new ArgumentException($"'{s}' is not a subnet such as 10.0.72.0/24."), "FlannelInvalidArgument", ErrorCategory.InvalidArgument, s));
                    continue;
                }
                foreach (var subnet in targets)
                {
                    var key = options.SubnetsPrefix + SubnetKey.Make(subnet);
                    if (!ConfirmUnlessForced(Force, key, "Remove subnet lease")) continue;
                    if (!await registry.DeleteLeaseAsync(subnet, ct).ConfigureAwait(false))
                        EmitError(new ErrorRecord(new ItemNotFoundException($"No subnet lease '{subnet}' under {options.SubnetsPrefix}."),
                            "FlannelSubnetLeaseNotFound", ErrorCategory.ObjectNotFound, s));
                }
            }
        });
    }
}
