// Test-FlannelNode's engine: checks one host's node against its subnet.env, its etcd lease and
// config, the kernel's links and routes, iptables and, optionally, ICMP to each peer. Each check
// yields a result; a check whose input is missing yields Skip saying what it needed, so one
// broken thing shows as one Fail rather than a cascade.
using System.Globalization;
using System.Runtime.CompilerServices;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;
using FlannelPS.Core.Host;
using FlannelPS.Core.Iptables;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;
using N = FlannelPS.Core.Health.HealthCheckNames;
using R = FlannelPS.Core.Health.HealthCheckResult;

namespace FlannelPS.Core.Health;

public sealed class NodeHealthChecker(ISubnetRegistry registry, IHostNetwork host, IIptablesRunner iptables, IPinger pinger, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async IAsyncEnumerable<HealthCheckResult> RunAsync(NodeHealthOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = new State();
        foreach (var r in CheckSubnetFile(options, state)) yield return r;
        foreach (var r in await CheckEtcdAsync(options, state, cancellationToken).ConfigureAwait(false)) yield return r;
        foreach (var r in CheckKernel(options, state)) yield return r;
        foreach (var r in CheckIptables(options, state)) yield return r;
        await foreach (var r in CheckReachabilityAsync(options, state, cancellationToken).ConfigureAwait(false)) yield return r;
    }

    /// <summary>What earlier checks learnt, for the later ones.</summary>
    private sealed class State
    {
        public SubnetEnvContents? Env;
        public NetworkConfig? Config;
        public Lease? Own;
        public List<Lease> Peers = [];
        public bool PeersKnown;
        public NodeDatapath? Datapath;
        public IReadOnlyList<HostLink>? Links;
    }

    private static IEnumerable<R> CheckSubnetFile(NodeHealthOptions o, State s)
    {
        SubnetEnvContents? env;
        try { env = SubnetEnvFile.Read(o.SubnetFile); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [R.Fail(N.SubnetFile, $"Cannot read {o.SubnetFile}: {ex.Message}", o.SubnetFile)];
        }
        if (env is null)
            return [R.Fail(N.SubnetFile, $"{o.SubnetFile} does not exist: the node has not started, or -SubnetFile is wrong.", o.SubnetFile)];
        var problems = new List<string>();
        if (env.PreviousNetwork is null) problems.Add($"FLANNEL_NETWORK={Value(env, "FLANNEL_NETWORK")} is not a CIDR");
        if (env.PreviousSubnet is null) problems.Add($"FLANNEL_SUBNET={Value(env, "FLANNEL_SUBNET")} is not a CIDR");
        if (env.Mtu is null) problems.Add($"FLANNEL_MTU={Value(env, "FLANNEL_MTU")} is not a positive number");
        if (env.IpMasq is null) problems.Add($"FLANNEL_IPMASQ={Value(env, "FLANNEL_IPMASQ")} is not true or false");
        if (problems.Count > 0) return [R.Fail(N.SubnetFile, $"{o.SubnetFile}: {string.Join("; ", problems)}.", o.SubnetFile)];
        s.Env = env;
        return [R.Pass(N.SubnetFile, $"FLANNEL_NETWORK={env.Values["FLANNEL_NETWORK"]} FLANNEL_SUBNET={env.Values["FLANNEL_SUBNET"]} FLANNEL_MTU={env.Mtu} FLANNEL_IPMASQ={(env.IpMasq == true ? "true" : "false")}", o.SubnetFile)];
    }

    private static string Value(SubnetEnvContents env, string key) => env.Values.TryGetValue(key, out var v) ? $"'{v}'" : "(missing)";

    private async Task<List<R>> CheckEtcdAsync(NodeHealthOptions o, State s, CancellationToken ct)
    {
        var results = new List<R>();
        LeaseSnapshot? snapshot = null;
        try
        {
            var json = await registry.GetNetworkConfigAsync(ct).ConfigureAwait(false);
            if (json is null) results.Add(R.Fail(N.NetworkConfig, $"{NetworkConfigNotFoundException.Text} (key {o.ConfigKey})", o.ConfigKey));
            else
            {
                try
                {
                    s.Config = NetworkConfigParser.Parse(json);
                    results.Add(R.Pass(N.NetworkConfig, $"Network {s.Config.Network}, SubnetLen {s.Config.SubnetLen}, {s.Config.SubnetMin}..{s.Config.SubnetMax}, backend {s.Config.BackendType}", o.ConfigKey));
                }
                catch (FlannelException ex)
                {
                    results.Add(R.Fail(N.NetworkConfig, $"Invalid config at {o.ConfigKey}: {ex.Message}", o.ConfigKey));
                }
            }
            snapshot = await registry.GetLeasesAsync(ct).ConfigureAwait(false);
        }
        catch (FlannelException ex)
        {
            // etcd down: say it once; everything that needed etcd is skipped below.
            if (results.Count == 0) results.Add(R.Fail(N.NetworkConfig, ex.Message, o.ConfigKey));
            else results.Add(R.Fail(N.Lease, ex.Message, o.SubnetsPrefix));
        }

        var env = s.Env;
        // subnet.env vs config
        if (env is null) results.Add(R.Skip(N.SubnetFileNetwork, "Needs a readable subnet.env.", o.SubnetFile));
        else if (s.Config is null) results.Add(R.Skip(N.SubnetFileNetwork, "Needs the network config from etcd.", o.SubnetFile));
        else if (env.PreviousNetwork != s.Config.Network)
            results.Add(R.Fail(N.SubnetFileNetwork, $"subnet.env FLANNEL_NETWORK={env.PreviousNetwork} but the etcd config says Network {s.Config.Network}: restart the node so it rewrites subnet.env.", o.SubnetFile));
        else results.Add(R.Pass(N.SubnetFileNetwork, $"FLANNEL_NETWORK={env.PreviousNetwork} matches the etcd config.", o.SubnetFile));

        if (snapshot is null || env?.PreviousSubnet is not { } subnet)
        {
            var why = env is null ? "Needs a readable subnet.env." : "Needs the leases from etcd.";
            results.Add(R.Skip(N.Lease, why)); results.Add(R.Skip(N.LeaseTtl, why)); results.Add(R.Skip(N.LeaseRange, why));
            if (snapshot is not null && s.Env is null) { s.Peers = [.. snapshot.Leases]; s.PeersKnown = false; }
            return results;
        }

        var key = o.SubnetsPrefix + SubnetKey.Make(subnet);
        s.Own = snapshot.Leases.FirstOrDefault(l => l.Subnet == subnet);
        s.Peers = snapshot.Leases.Where(l => l.Subnet != subnet).OrderBy(l => l.Subnet.Address).ToList();
        s.PeersKnown = true;
        if (s.Own is not { } own)
        {
            var other = snapshot.Leases.FirstOrDefault(l => l.Subnet.Overlaps(subnet));
            var hint = other is null ? "" : $" ({other.Subnet} of {other.Attrs.PublicIP} overlaps it)";
            results.Add(R.Fail(N.Lease, $"No lease for FLANNEL_SUBNET {env.Values["FLANNEL_SUBNET"]} ({subnet}) in etcd{hint}: the node lost its lease or subnet.env is stale.", key));
            results.Add(R.Skip(N.LeaseTtl, "Needs the node's lease.", key));
            results.Add(R.Skip(N.LeaseRange, "Needs the node's lease.", key));
            return results;
        }

        results.Add(CheckLeaseOwner(o, s, own, key));
        results.Add(CheckLeaseTtl(o, own, key));
        if (s.Config is null) results.Add(R.Skip(N.LeaseRange, "Needs the network config from etcd.", key));
        else if (s.Config.IsCompatible(own.Subnet))
            results.Add(R.Pass(N.LeaseRange, $"{own.Subnet} is a /{s.Config.SubnetLen} within {s.Config.SubnetMin}..{s.Config.SubnetMax}.", key));
        else
            results.Add(R.Fail(N.LeaseRange, $"{own.Subnet} is outside the config (SubnetLen {s.Config.SubnetLen}, {s.Config.SubnetMin}..{s.Config.SubnetMax}): the node will drop it at its next start.", key));
        return results;
    }

    private R CheckLeaseOwner(NodeHealthOptions o, State s, Lease own, string key)
    {
        var ip = own.Attrs.PublicIP;
        if (o.PublicIP is { } expected)
        {
            return ip == expected
                ? R.Pass(N.Lease, $"{own.Subnet} is held by {ip}.", key)
                : R.Fail(N.Lease, $"{own.Subnet} is held by PublicIP {ip}, not by this node's {expected}: another node took the subnet.", key);
        }
        IReadOnlyList<HostLink> links;
        try { links = s.Links ??= host.GetLinks(); }
        catch (FlannelException ex) { return R.Warn(N.Lease, $"{own.Subnet} is held by {ip}; cannot list local addresses to confirm it is this host: {ex.Message}", key); }
        return links.Any(l => l.Addresses.Any(a => a.Address == ip))
            ? R.Pass(N.Lease, $"{own.Subnet} is held by {ip}, an address of this host.", key)
            : R.Warn(N.Lease, $"{own.Subnet} is held by PublicIP {ip}, which is not an address of this host (fine behind NAT with --public-ip; pass -PublicIP to check it).", key);
    }

    private R CheckLeaseTtl(NodeHealthOptions o, Lease own, string key)
    {
        if (own.IsReservation) return R.Pass(N.LeaseTtl, $"{own.Subnet} is a reservation (no TTL).", key);
        if (own.Expiration is not { } exp) return R.Warn(N.LeaseTtl, $"etcd did not report the remaining TTL of {own.Subnet}.", key);
        var left = exp - _time.GetUtcNow();
        var when = exp.ToString("u", CultureInfo.InvariantCulture);
        if (left <= TimeSpan.Zero) return R.Fail(N.LeaseTtl, $"{own.Subnet} expired at {when}.", key);
        if (left <= o.RenewMargin)
            return R.Fail(N.LeaseTtl, $"{own.Subnet} has {Span(left)} left, less than the renew margin {Span(o.RenewMargin)}: the node is not renewing its lease (expires {when}).", key);
        return R.Pass(N.LeaseTtl, $"{own.Subnet} has {Span(left)} left (renew margin {Span(o.RenewMargin)}), expires {when}.", key);
    }

    private static string Span(TimeSpan t) => t.ToString(t.TotalDays >= 1 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture);

    private List<R> CheckKernel(NodeHealthOptions o, State s)
    {
        var results = new List<R>();
        if (s.Config is null)
        {
            foreach (var n in new[] { N.Device, N.DeviceMtu, N.DeviceAddress, N.NetworkRoute, N.PeerRoute })
                results.Add(R.Skip(n, "Needs the network config from etcd (it names the backend)."));
            return results;
        }
        var dp = s.Datapath = NodeDatapath.For(s.Config, o.Device);
        IReadOnlyList<HostRoute> routes;
        try
        {
            s.Links ??= host.GetLinks();
            routes = host.GetRoutes();
        }
        catch (FlannelException ex)
        {
            results.Add(R.Fail(N.Device, $"Cannot read the kernel's links and routes: {ex.Message}"));
            return results;
        }

        var lease = s.Env?.PreviousSubnet;
        var network = s.Config.Network;
        if (dp.Device is null)
        {
            var why = $"The {dp.BackendType} backend has no overlay device.";
            results.Add(R.Skip(N.Device, why)); results.Add(R.Skip(N.DeviceMtu, why)); results.Add(R.Skip(N.DeviceAddress, why));
        }
        else if (s.Links.FirstOrDefault(l => l.Name == dp.Device) is not { } link)
        {
            results.Add(R.Fail(N.Device, $"{dp.Device} does not exist: the node is not running its {dp.BackendType} datapath.", dp.Device));
            results.Add(R.Skip(N.DeviceMtu, $"Needs {dp.Device}.", dp.Device));
            results.Add(R.Skip(N.DeviceAddress, $"Needs {dp.Device}.", dp.Device));
        }
        else
        {
            results.Add(link.IsUp
                ? R.Pass(N.Device, $"{dp.Device} exists and is up.", dp.Device)
                : R.Fail(N.Device, $"{dp.Device} is down.", dp.Device));
            results.Add(CheckMtu(s, dp, link));
            if (lease is not { } l) results.Add(R.Skip(N.DeviceAddress, "Needs FLANNEL_SUBNET from subnet.env.", dp.Device));
            else if (link.Addresses.Any(a => a.Address == l.Address && a.PrefixLength == 32))
                results.Add(R.Pass(N.DeviceAddress, $"{dp.Device} has {l.Address}/32.", dp.Device));
            else
                results.Add(R.Fail(N.DeviceAddress, $"{dp.Device} has {(link.Addresses.Count == 0 ? "no IPv4 address" : string.Join(", ", link.Addresses))}, expected {l.Address}/32.", dp.Device));
        }

        if (!dp.HasNetworkRoute || dp.Device is null)
            results.Add(R.Skip(N.NetworkRoute, $"The {dp.BackendType} backend routes each peer instead of the whole network.", network.ToString()));
        else if (routes.Any(r => r.IsUnicast && r.Destination == network && r.Device == dp.Device && r.Gateway is null))
            results.Add(R.Pass(N.NetworkRoute, $"{network} dev {dp.Device} is present.", network.ToString()));
        else
        {
            var found = routes.Where(r => r.Destination == network).Select(r => $"'{r}'").ToList();
            results.Add(R.Fail(N.NetworkRoute, $"Route {network} dev {dp.Device} is missing{(found.Count > 0 ? $" (found {string.Join(", ", found)})" : "")}.", network.ToString()));
        }

        if (!dp.RoutesPeers) results.Add(R.Skip(N.PeerRoute, $"The {dp.BackendType} backend has no datapath to check."));
        else if (!s.PeersKnown) results.Add(R.Skip(N.PeerRoute, "Needs the node's lease and the peer leases from etcd."));
        else if (s.Peers.Count == 0) results.Add(R.Pass(N.PeerRoute, "No other leases in etcd: no peers to route."));
        else
        {
            var neighbours = new List<HostNeighbour>();
            var fdb = new List<HostFdbEntry>();
            if (dp.Backend.PeerEntries is not null && dp.Device is { } dev && s.Links.Any(l => l.Name == dev))
            {
                try { neighbours.AddRange(host.GetNeighbours(dev)); fdb.AddRange(host.GetFdbEntries(dev)); }
                catch (FlannelException ex) { results.Add(R.Fail(N.PeerRoute, $"Cannot read the neighbour and FDB entries of {dev}: {ex.Message}", dev)); }
            }
            foreach (var peer in s.Peers)
            {
                var target = peer.Subnet.ToString();
                if (dp.Backend.PeerRoutes is PeerRouteStyle.ViaPeerSubnetOnDevice or PeerRouteStyle.ViaPublicIP
                    && !string.Equals(peer.Attrs.BackendType, dp.BackendType, StringComparison.Ordinal))
                {
                    results.Add(R.Skip(N.PeerRoute, $"Peer {peer.Subnet} ({peer.Attrs.PublicIP}) runs '{peer.Attrs.BackendType ?? "udp"}', not {dp.BackendType}: this node ignores it, as flannel does.", target));
                    continue;
                }
                var route = RouteLookup.Find(routes, peer.Subnet.Address);
                var problem = dp.CheckPeerRoute(peer, route);
                var carved = RouteLookup.Inside(routes, peer.Subnet).Where(r => dp.CheckPeerRoute(peer, r) is not null).ToList();
                if (problem is null && carved.Count > 0) problem = $"part of it is routed by {string.Join(", ", carved.Select(r => $"'{r}'"))}";
                if (problem is null)
                {
                    var missing = dp.PeerEntries(peer, route).Where(e => e switch
                    {
                        HostNeighbour n => !neighbours.Any(k => k.Address == n.Address && k.Mac == n.Mac),
                        HostFdbEntry f => !fdb.Any(k => k.Mac == f.Mac && k.Destination == f.Destination),
                        _ => false,
                    }).ToList();
                    if (missing.Count > 0) problem = $"missing {string.Join(" and ", missing.Select(m => $"'{m}'"))}";
                }
                results.Add(problem is null
                    ? R.Pass(N.PeerRoute, $"{peer.Subnet} ({peer.Attrs.PublicIP}) is routed {dp.DescribePeerRoute(peer)}.", target)
                    : R.Fail(N.PeerRoute, $"Peer {peer.Subnet} ({peer.Attrs.PublicIP}): {problem}.", target));
            }
        }
        return results;
    }

    private static R CheckMtu(State s, NodeDatapath dp, HostLink link)
    {
        var device = dp.Device!;
        if (s.Env?.Mtu is { } want && link.Mtu != want)
            return R.Fail(N.DeviceMtu, $"{device} MTU is {link.Mtu} but subnet.env FLANNEL_MTU={want}: containers would use the wrong MTU.", device);
        // The underlay is the link holding the lease's PublicIP (absent behind NAT: then say nothing about it).
        var underlay = s.Own is { } own ? s.Links!.FirstOrDefault(l => l.Addresses.Any(a => a.Address == own.Attrs.PublicIP)) : null;
        if (underlay is not null && link.Mtu != underlay.Mtu - dp.EncapOverhead)
            return R.Warn(N.DeviceMtu, $"{device} MTU is {link.Mtu}, expected {underlay.Name} MTU {underlay.Mtu} − {dp.EncapOverhead} = {underlay.Mtu - dp.EncapOverhead}.", device);
        var detail = underlay is null ? "" : $" = {underlay.Name} MTU {underlay.Mtu} − {dp.EncapOverhead}";
        return R.Pass(N.DeviceMtu, $"{device} MTU is {link.Mtu}{(s.Env?.Mtu is not null ? " = FLANNEL_MTU" : "")}{detail}.", device);
    }

    private List<R> CheckIptables(NodeHealthOptions o, State s)
    {
        var results = new List<R>();
        var network = s.Config?.Network;
        const string fwdTarget = "filter " + IptablesRules.ForwardChain, masqTarget = "nat " + IptablesRules.MasqChain;
        if (network is not { } n)
        {
            results.Add(R.Skip(N.IptablesForward, "Needs the network config from etcd.", fwdTarget));
            results.Add(R.Skip(N.IptablesMasquerade, "Needs the network config from etcd.", masqTarget));
            return results;
        }
        if (!o.IsRoot)
        {
            // iptables -C as non-root fails as if the rule were missing: say what is needed instead.
            const string why = "Needs root: iptables cannot read the rules without it. Run Test-FlannelNode as root to check them.";
            results.Add(R.Skip(N.IptablesForward, why, fwdTarget));
            results.Add(R.Skip(N.IptablesMasquerade, why, masqTarget));
            return results;
        }
        if (!o.ForwardRules) results.Add(R.Skip(N.IptablesForward, "Not expected (-NoIptablesForwardRules).", fwdTarget));
        else if (s.Datapath is { Backend.Forwards: false } nf) results.Add(R.Skip(N.IptablesForward, $"The {nf.BackendType} backend forwards nothing.", fwdTarget));
        else results.Add(CheckRules(N.IptablesForward, fwdTarget, IptablesRules.Forward(n)));

        var masq = o.IpMasq ?? s.Env?.IpMasq;
        if (masq is null) results.Add(R.Skip(N.IptablesMasquerade, "Needs FLANNEL_IPMASQ from subnet.env (or -IpMasq).", masqTarget));
        else if (masq == false) results.Add(R.Skip(N.IptablesMasquerade, "The node runs without --ip-masq (FLANNEL_IPMASQ=false).", masqTarget));
        else if (s.Env?.PreviousSubnet is not { } lease) results.Add(R.Skip(N.IptablesMasquerade, "Needs FLANNEL_SUBNET from subnet.env.", masqTarget));
        else results.Add(CheckRules(N.IptablesMasquerade, masqTarget, IptablesRules.Masquerade(n, lease, randomFully: true)));
        return results;
    }

    private R CheckRules(string name, string target, IReadOnlyList<IptablesRule> rules)
    {
        var missing = new List<string>();
        try
        {
            foreach (var rule in rules)
            {
                if (Exists(rule)) continue;
                // --random-fully depends on the iptables version the node found: accept either form.
                var plain = rule.Spec.Where(a => a != "--random-fully").ToList();
                if (plain.Count != rule.Spec.Count && Exists(rule with { Spec = plain })) continue;
                missing.Add($"-t {rule.Table} {new IptablesRule(rule.Table, rule.Chain, plain).ToSaveString()}");
            }
        }
        catch (FlannelException ex) when (ex.ErrorId == ChildProcess.CommandNotFoundErrorId)
        {
            return R.Fail(name, ex.Message, target);
        }
        return missing.Count == 0
            ? R.Pass(name, $"All {rules.Count} rules present.", target)
            : R.Fail(name, $"Missing {missing.Count} of {rules.Count} rules: {string.Join("; ", missing)}", target);
    }

    private bool Exists(IptablesRule rule) => new IptablesManager(iptables).Exists(rule);

    private async IAsyncEnumerable<R> CheckReachabilityAsync(NodeHealthOptions o, State s, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!o.Ping) { yield return R.Skip(N.PeerReachable, "Not tested: pass -Ping to send ICMP echo to each peer's overlay address."); yield break; }
        if (s.Datapath is not { RoutesPeers: true } dp) { yield return R.Skip(N.PeerReachable, "Needs a backend with a datapath (udp, vxlan, host-gw)."); yield break; }
        if (!s.PeersKnown) { yield return R.Skip(N.PeerReachable, "Needs the node's lease and the peer leases from etcd."); yield break; }
        if (s.Peers.Count == 0) { yield return R.Pass(N.PeerReachable, "No other leases in etcd: no peers to reach."); yield break; }
        var count = Math.Max(1, o.PingCount);
        foreach (var peer in s.Peers)
        {
            var address = dp.PeerOverlayAddress(peer);
            var sent = 0;
            var ok = false;
            while (sent < count && !ok)
            {
                sent++;
                ok = await pinger.PingAsync(address, o.PingTimeout, ct).ConfigureAwait(false);
            }
            yield return ok
                ? R.Pass(N.PeerReachable, $"{address} ({peer.Subnet} at {peer.Attrs.PublicIP}) answered echo {sent} of {count}.", peer.Subnet.ToString())
                : R.Fail(N.PeerReachable, $"{address} ({peer.Subnet} at {peer.Attrs.PublicIP}) did not answer {count} echo request(s) within {o.PingTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s each.", peer.Subnet.ToString());
        }
    }
}
