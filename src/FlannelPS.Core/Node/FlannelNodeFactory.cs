// Wires a production node: etcd registry, the backends FlannelPS runs, flannel's interface
// selection and iptables rules. flanneld and Start-FlannelNode both build nodes here.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Alloc;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Iptables;
using FlannelPS.Core.Registry;

namespace FlannelPS.Core.Node;

public static class FlannelNodeFactory
{
    public static BackendRegistry DefaultBackends() => new BackendRegistry()
        .Add("udp", () => new UdpBackend())
        .Add("alloc", () => new AllocBackend());

    public static FlannelNode Create(NodeOptions options, EtcdOptions etcd, ILog log) =>
        new(options, new NodeDependencies
        {
            Registry = new EtcdSubnetRegistry(etcd),
            Backends = DefaultBackends(),
            ResolveInterface = (iface, publicIp) => ExternalInterfaceResolver.Resolve(iface, publicIp),
            CreateTrafficRules = NodeTrafficRules.Create,
            Log = log,
        });
}
