// Wires a production node: etcd registry, the backends FlannelPS runs, flannel's interface
// selection and iptables rules. flanneld and Start-FlannelNode both build nodes here.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Alloc;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;

namespace FlannelPS.Core.Node;

public static class FlannelNodeFactory
{
    public static BackendRegistry DefaultBackends(UdpDatapathTuning? udpTuning = null) => new BackendRegistry()
        .Add("udp", () => new UdpBackend(tuning: udpTuning))
        .Add("alloc", () => new AllocBackend());

    public static FlannelNode Create(NodeOptions options, EtcdOptions etcd, ILog log, UdpDatapathTuning? udpTuning = null) =>
        new(options, new NodeDependencies
        {
            Registry = new EtcdSubnetRegistry(etcd, log, TimeProvider.System),
            OwnsRegistry = true,
            Backends = DefaultBackends(udpTuning),
            ResolveInterface = (candidates, publicIp) => ResolveInterface(candidates, publicIp, log),
            CreateTrafficRules = NodeTrafficRules.Create,
            Log = log,
        });

    /// <summary>
    /// flannel's interface choice: the first -Interface candidate that exists; with none, the interface
    /// owning -PublicIP (HEAD), else the default-route interface. -PublicIP is what the lease advertises.
    /// </summary>
    public static ExternalInterface ResolveInterface(IReadOnlyList<string> candidates, string? publicIp, ILog log)
    {
        var advertised = PublicIPOption.Parse(publicIp);
        if (candidates.Count == 0)
        {
            if (advertised is { } pub)
            {
                try { return ExternalInterfaceResolver.Resolve(pub.ToString(), pub, log); }
                catch (FlannelException ex) when (ex.ErrorId == "FlannelInterfaceNotFound")
                {
                    throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
                        $"-PublicIP {pub} is not an address of this host, so it cannot select the interface; behind NAT pass -Interface as well.", publicIp, ex);
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
        throw last!;
    }
}
