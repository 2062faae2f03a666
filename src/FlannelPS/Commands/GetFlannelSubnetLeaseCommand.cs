// Get-FlannelSubnetLease: every lease and reservation under <prefix>/subnets.
using System.Management.Automation;
using FlannelPS.Core.Node;
using FlannelPS.Infrastructure;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Get, "FlannelSubnetLease", DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(FlannelSubnetLease))]
public sealed class GetFlannelSubnetLeaseCommand : EtcdCmdlet
{
    private const string SubnetSet = "Subnet";
    private const string InputObjectSet = "InputObject";

    /// <summary>Lease subnet(s) to return, e.g. 10.0.72.0/24 or 10.0.7*; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = SubnetSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SubnetLeaseCompleter))]
    public string[]? Subnet { get; set; }

    // InputObject is the default set so that a piped lease binds to it before its Subnet property
    // could bind by name (the binder tries the default set first). It is optional: with no input the
    // cmdlet lists every lease, as with no -Subnet.
    /// <summary>Lease(s) to read again, each from the etcd endpoints and prefix it came from.</summary>
    [Parameter(ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public FlannelSubnetLease[]? InputObject { get; set; }

    /// <summary>Only leases advertising this public IP.</summary>
    [Parameter]
    public string? PublicIP { get; set; }

    /// <summary>Only reservations (keys with no etcd lease).</summary>
    [Parameter]
    public SwitchParameter Reservation { get; set; }

    protected override bool ErrorsEndOnlyTheRecord => true;

    private Core.Net.Ip4? _publicIp;

    // -PublicIP is the same for every record: a bad value is one error, before any etcd request.
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _publicIp = Checked(() => PublicIPOption.Parse(PublicIP));
    }

    protected override void ProcessRecord()
    {
        if (InputObject is not null)
        {
            foreach (var piped in InputObject)
            {
                // A piped lease is read again where it came from, not under this invocation's defaults.
                Core.Registry.EtcdOptions origin;
                Core.Subnet.ISubnetRegistry originRegistry;
                try { (origin, originRegistry) = RegistryForOrigin(piped.EtcdEndpoint, piped.EtcdPrefix, $"Lease {piped.Key}"); }
                catch (Core.Errors.FlannelException ex) { WriteError(ErrorMapper.ToErrorRecord(ex)); continue; }
                ReadAgain(origin, originRegistry, piped);
            }
            return;
        }
        // One registry for every record of the pipeline, opened here on the pipeline thread.
        var (options, registry) = InvocationRegistry();
        Read(options, registry, Subnet);
    }

    // A piped lease is one key: it is read alone (with its TTL), not by listing every lease again.
    private void ReadAgain(Core.Registry.EtcdOptions options, Core.Subnet.ISubnetRegistry registry, FlannelSubnetLease piped) =>
        RunAsync(async ct =>
        {
            var lease = await registry.GetLeaseAsync(piped.Net, ct).ConfigureAwait(false);
            if (lease is null) EmitError(NotFound(piped.Subnet.ToString(), options));
            else if (Wanted(lease)) Emit(new FlannelSubnetLease(lease, options));
        });

    private bool Wanted(Core.Subnet.Lease lease) =>
        (_publicIp is not { } ip || lease.Attrs.PublicIP == ip) && (!Reservation || lease.IsReservation);

    private static ErrorRecord NotFound(string subnet, Core.Registry.EtcdOptions options) =>
        new(new ItemNotFoundException($"No subnet lease '{subnet}' under {options.SubnetsPrefix}."),
            "FlannelSubnetLeaseNotFound", ErrorCategory.ObjectNotFound, subnet);

    private void Read(Core.Registry.EtcdOptions options, Core.Subnet.ISubnetRegistry registry, string[]? subnets)
    {
        RunAsync(async ct =>
        {
            var snapshot = await registry.GetLeasesAsync(ct).ConfigureAwait(false);
            var patterns = subnets?.Select(s => WildcardPattern.Get(s, WildcardOptions.IgnoreCase)).ToArray();
            foreach (var lease in snapshot.Leases.OrderBy(l => l.Subnet))
            {
                var subnet = lease.Subnet.ToString();
                if (patterns is not null)
                {
                    if (!patterns.Any(p => p.IsMatch(subnet) || p.IsMatch(lease.Key))) continue;
                }
                if (Wanted(lease)) Emit(new FlannelSubnetLease(lease, options));
            }
            // A literal subnet that matched nothing is an error, as Get-Item would report it.
            foreach (var s in subnets ?? [])
            {
                if (!WildcardPattern.ContainsWildcardCharacters(s) && !snapshot.Leases.Any(l => l.Subnet.ToString() == s || l.Key == s))
                    EmitError(NotFound(s, options));
            }
        });
    }
}
