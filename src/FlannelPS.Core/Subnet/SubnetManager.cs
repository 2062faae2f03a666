// flannel's subnet manager over the registry seam: read the network config, acquire a lease
// (reuse by PublicIP → previous subnet → random free subnet, atomic create, bounded race retries)
// and renew it. Reservations (keys with no etcd lease) are used but never leased nor deleted.
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public sealed class SubnetManager
{
    /// <summary>flannel's hard-coded lease TTL: 24 h.</summary>
    public const int LeaseTtlSeconds = 86400;
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(LeaseTtlSeconds);
    /// <summary>flannel's raceRetries: attempts before giving up when other nodes keep winning the same subnet.</summary>
    public const int MaxAcquireAttempts = 10;
    public const string MaxRetriesText = "max retries reached trying to acquire a subnet";

    private readonly ISubnetRegistry _registry;
    private readonly Random _random;
    private readonly ILog _log;
    private readonly Lock _randomLock = new();

    public SubnetManager(ISubnetRegistry registry, Random random, ILog log)
    {
        _registry = registry;
        _random = random;
        _log = log;
    }

    public async Task<NetworkConfig> GetNetworkConfigAsync(CancellationToken cancellationToken)
    {
        var json = await _registry.GetNetworkConfigAsync(cancellationToken).ConfigureAwait(false);
        if (json is null) throw new NetworkConfigNotFoundException(ConfigKeyHint());
        return NetworkConfigParser.Parse(json);
    }

    public async Task<Lease> AcquireLeaseAsync(NetworkConfig config, LeaseAttrs attrs, Ip4Net? previousSubnet, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAcquireAttempts; attempt++)
        {
            var lease = await TryAcquireOnceAsync(config, attrs, previousSubnet, cancellationToken).ConfigureAwait(false);
            if (lease is not null) return lease;
            _log.Debug($"Another node took the subnet first (attempt {attempt} of {MaxAcquireAttempts}); trying again");
        }
        throw new FlannelException("FlannelSubnetAcquireRetriesExhausted", FlannelErrorCategory.ResourceUnavailable, MaxRetriesText, attrs.PublicIP.ToString());
    }

    /// <summary>One pass of flannel's tryAcquireLease; null means "lost a race, try again".</summary>
    private async Task<Lease?> TryAcquireOnceAsync(NetworkConfig config, LeaseAttrs attrs, Ip4Net? previousSubnet, CancellationToken cancellationToken)
    {
        // Owners and subnets are all this needs; expirations would cost one etcd round trip per lease.
        var snapshot = await _registry.GetLeasesWithoutExpirationAsync(cancellationToken).ConfigureAwait(false);
        var leases = new List<Lease>(snapshot.Leases);

        // 1. Reuse by PublicIP. An operator's reservation wins over an ordinary lease for the same IP.
        var mine = leases.FirstOrDefault(l => l.IsReservation && l.Attrs.PublicIP == attrs.PublicIP)
                   ?? leases.FirstOrDefault(l => l.Attrs.PublicIP == attrs.PublicIP);
        if (mine is not null)
        {
            if (config.IsCompatible(mine.Subnet))
            {
                var reused = mine.IsReservation
                    ? await _registry.PutReservationAsync(mine.Subnet, attrs, cancellationToken).ConfigureAwait(false)
                    : await _registry.UpdateLeaseAsync(mine.Subnet, attrs, LeaseTtl, cancellationToken).ConfigureAwait(false);
                _log.Info($"Found lease ({mine.Subnet}) for current IP ({attrs.PublicIP}), reusing");
                return reused;
            }
            if (mine.IsReservation)
            {
                // Never delete a reservation: it is the operator's, and it still occupies its subnet.
                _log.Warning($"Found reservation ({mine.Subnet}) for current IP ({attrs.PublicIP}) but not compatible with current config, ignoring it (reservations are never deleted)");
            }
            else
            {
                _log.Info($"Found lease ({mine.Subnet}) for current IP ({attrs.PublicIP}) but not compatible with current config, deleting");
                await _registry.DeleteLeaseAsync(mine.Subnet, cancellationToken).ConfigureAwait(false);
                leases.Remove(mine);
            }
        }

        var taken = leases.Select(l => l.Subnet).ToList();

        // 2. The subnet this node had before (subnet.env), when nobody holds it now.
        if (previousSubnet is { } prev)
        {
            if (!config.IsCompatible(prev))
            {
                _log.Error($"Found previously leased subnet ({prev}) but it is not compatible with the network config ({config.Network}, SubnetLen {config.SubnetLen}), ignoring");
            }
            else if (!SubnetAllocator.OverlapsAny(prev, taken))
            {
                var created = await _registry.CreateLeaseAsync(prev, attrs, LeaseTtl, cancellationToken).ConfigureAwait(false);
                if (created is null) return null;
                _log.Info($"Found previously leased subnet ({prev}), reusing");
                return created;
            }
        }

        // 3. A random free subnet among the first CandidateCap.
        _log.Info($"Picking subnet in range {config.SubnetMin} ... {config.SubnetMax}");
        Ip4Net? pick;
        lock (_randomLock) pick = SubnetAllocator.Allocate(config, taken, _random);
        if (pick is not { } subnet) throw new OutOfSubnetsException($"{config.SubnetMin} ... {config.SubnetMax}");

        var lease = await _registry.CreateLeaseAsync(subnet, attrs, LeaseTtl, cancellationToken).ConfigureAwait(false);
        if (lease is null) return null;
        _log.Info($"Allocated lease ({lease.Subnet}) to current node ({attrs.PublicIP})");
        return lease;
    }

    /// <summary>
    /// Writes a reservation for <paramref name="subnet"/> (a key with no etcd lease, never re-leased
    /// nor expired) after flannel's rules: the subnet must fit the config, and a key held by another
    /// PublicIP is not taken over. <paramref name="approve"/> is asked once the rules pass and before
    /// anything is written (ShouldProcess); null means it declined and nothing was written.
    /// </summary>
    public async Task<Lease?> ReserveAsync(NetworkConfig config, Ip4Net subnet, LeaseAttrs attrs, Func<bool> approve, CancellationToken cancellationToken)
    {
        if (!config.IsCompatible(subnet))
            throw new FlannelException("FlannelSubnetIncompatible", FlannelErrorCategory.InvalidArgument,
                $"Subnet {subnet} does not fit the network config (SubnetLen {config.SubnetLen}, {config.SubnetMin} ... {config.SubnetMax}).", subnet.ToString());
        var existing = await _registry.GetLeaseAsync(subnet, cancellationToken).ConfigureAwait(false);
        if (existing is not null && existing.Attrs.PublicIP != attrs.PublicIP)
            throw new FlannelException("FlannelSubnetTaken", FlannelErrorCategory.ResourceExists,
                $"Subnet {subnet} is held by {existing.Attrs.PublicIP}; remove that lease first.", subnet.ToString());
        if (!approve()) return null;
        var lease = await _registry.PutReservationAsync(subnet, attrs, cancellationToken).ConfigureAwait(false);
        _log.Info($"Reserved {subnet} for {attrs.PublicIP}");
        return lease;
    }

    /// <summary>A fresh 24 h etcd lease on the same key and attrs. A reservation is returned untouched.</summary>
    public async Task<Lease> RenewLeaseAsync(Lease lease, CancellationToken cancellationToken)
    {
        if (lease.IsReservation) return lease;
        return await _registry.UpdateLeaseAsync(lease.Subnet, lease.Attrs, LeaseTtl, cancellationToken).ConfigureAwait(false);
    }

    private string ConfigKeyHint() => $"{_registry.ConfigKey} at {_registry.Endpoints}";
}
