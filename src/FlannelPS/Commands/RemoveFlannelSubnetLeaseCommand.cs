// Remove-FlannelSubnetLease: deletes lease keys (or reservations), by subnet or from the pipeline.
// A piped lease (what Get-FlannelSubnetLease emits) is deleted by its own key, under the prefix and
// at the etcd endpoints it was read from; a bare -Subnet uses the parameters.
using System.Management.Automation;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Remove, "FlannelSubnetLease", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(void))]
public sealed class RemoveFlannelSubnetLeaseCommand : EtcdCmdlet
{
    // InputObject is the default set so that a piped lease binds to it before its Subnet property
    // could bind by name (the binder tries the default set first); strings and other objects with a
    // Subnet property still fall through to -Subnet.
    private const string SubnetSet = "Subnet";
    private const string InputObjectSet = "InputObject";

    /// <summary>Subnet(s) whose key to delete under -EtcdPrefix, e.g. 10.0.72.0/24; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SubnetSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SubnetLeaseCompleter))]
    public string[] Subnet { get; set; } = null!;

    /// <summary>Lease(s) from Get-FlannelSubnetLease: each is deleted by its own key, prefix and etcd endpoints.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public FlannelSubnetLease[] InputObject { get; set; } = null!;

    /// <summary>Skip the confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override bool ErrorsEndOnlyTheRecord => true;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            RemovePiped();
            return;
        }
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
                foreach (var subnet in targets) await DeleteAsync(options, registry, subnet, s, ct).ConfigureAwait(false);
            }
        });
    }

    private void RemovePiped()
    {
        // Each lease's origin is resolved here on the pipeline thread (it reads the bound parameters).
        var work = new List<(EtcdOptions Options, ISubnetRegistry Registry, Ip4Net Subnet, FlannelSubnetLease Lease)>();
        foreach (var lease in InputObject)
        {
            var subnet = lease.Net;
            try
            {
                var (options, registry) = RegistryForOrigin(lease.EtcdEndpoint, lease.EtcdPrefix, $"Lease {lease.Key}");
                if (options.SubnetsPrefix + SubnetKey.Make(subnet) != lease.Key)
                    throw new FlannelException("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument,
                        $"Lease key {lease.Key} does not match its subnet {lease.Subnet} under {options.SubnetsPrefix}; nothing deleted.", lease.Key);
                work.Add((options, registry, subnet, lease));
            }
            catch (FlannelException ex)
            {
                WriteError(ErrorMapper.ToErrorRecord(ex));
            }
        }
        if (work.Count == 0) return;
        RunAsync(async ct =>
        {
            foreach (var (options, registry, subnet, lease) in work)
                await DeleteAsync(options, registry, subnet, lease.Key, ct).ConfigureAwait(false);
        });
    }

    private async Task DeleteAsync(EtcdOptions options, ISubnetRegistry registry, Ip4Net subnet, object target, CancellationToken ct)
    {
        var key = options.SubnetsPrefix + SubnetKey.Make(subnet);
        if (!ConfirmUnlessForced(Force, $"{key} at {options.EndpointList}", "Remove subnet lease")) return;
        if (!await registry.DeleteLeaseAsync(subnet, ct).ConfigureAwait(false))
            EmitError(new ErrorRecord(new ItemNotFoundException($"No subnet lease '{subnet}' under {options.SubnetsPrefix} at {options.EndpointList}."),
                "FlannelSubnetLeaseNotFound", ErrorCategory.ObjectNotFound, target));
    }
}
