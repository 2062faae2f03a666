// Wires a production node: etcd registry, the backends FlannelPS runs, flannel's interface
// selection and iptables rules. flanneld and Start-FlannelNode both build nodes here.
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;

namespace FlannelPS.Core.Node;

public static class FlannelNodeFactory
{
    public static BackendRegistry DefaultBackends(UdpDatapathTuning? udpTuning = null) => BackendRegistry.CreateDefault(udpTuning);

    public static FlannelNode Create(NodeOptions options, EtcdOptions etcd, ILog log, UdpDatapathTuning? udpTuning = null) =>
        new(options, new NodeDependencies
        {
            Registry = new EtcdSubnetRegistry(etcd, log, TimeProvider.System),
            OwnsRegistry = true,
            Backends = DefaultBackends(udpTuning),
            ResolveInterface = options => ResolveInterface(options, log),
            CreateTrafficRules = NodeTrafficRules.Create,
            Host = new RtnetlinkHostNetwork(),
            Log = log,
        });

    /// <summary>
    /// flannel's interface choice. With no --iface, --iface-regex or --iface-can-reach: the interface
    /// owning -PublicIP, else the default-route interface. Otherwise the first --iface candidate that
    /// exists, then the first --iface-regex that matches, then the route to --iface-can-reach; none
    /// resolving is an error. -PublicIP is what the lease advertises.
    /// </summary>
    public static ExternalInterface ResolveInterface(NodeOptions options, ILog log)
    {
        var advertised = PublicIPOption.Parse(options.PublicIP);
        var candidates = options.Interfaces;
        if (candidates.Count == 0 && options.InterfaceRegexes.Count == 0 && string.IsNullOrEmpty(options.InterfaceCanReach))
        {
            if (advertised is { } pub)
            {
                try { return ExternalInterfaceResolver.Resolve(pub.ToString(), pub, log); }
                catch (FlannelException ex) when (ex.ErrorId == "FlannelInterfaceNotFound")
                {
                    throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
                        $"-PublicIP {pub} is not an address of this host, so it cannot select the interface; behind NAT pass -Interface as well.", options.PublicIP, ex);
                }
            }
            return ExternalInterfaceResolver.Resolve(null, null, log);
        }
        FlannelException? last = null;
        foreach (var candidate in candidates)
        {
            try { return ExternalInterfaceResolver.Resolve(candidate, advertised, log); }
            catch (FlannelException ex) when (ex.ErrorId == "FlannelInterfaceNotFound") { last = ex; }
        }
        foreach (var pattern in options.InterfaceRegexes)
        {
            try { return ExternalInterfaceResolver.ResolveByRegex(pattern, advertised, log); }
            catch (FlannelException ex) when (ex.ErrorId is "FlannelInterfaceNotFound" or "FlannelInterfaceNoAddress")
            {
                log.Info($"Could not find valid interface matching {pattern}: {ex.Message}");
                last = ex;
            }
        }
        if (!string.IsNullOrEmpty(options.InterfaceCanReach))
            return ExternalInterfaceResolver.ResolveCanReach(options.InterfaceCanReach, advertised, log);
        if (candidates.Count == 1 && options.InterfaceRegexes.Count == 0) throw last!;
        throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
            "Failed to find interface to use that matches the interfaces and/or regexes provided " +
            $"(--iface {string.Join(", ", candidates)}; --iface-regex {string.Join(", ", options.InterfaceRegexes)}): {last?.Message}",
            string.Join(",", [.. candidates, .. options.InterfaceRegexes]), last);
    }
}
