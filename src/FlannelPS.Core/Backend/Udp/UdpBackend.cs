// flannel's default backend (spec §4): a TUN device flannel0 whose packets travel to peers as the
// bare payload of UDP datagrams on port 8285. This class sets the host up; UdpForwarder moves packets.
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.Udp;

public sealed class UdpBackend(LinkConfigurator? links = null, UdpDatapathTuning? tuning = null) : IBackend
{
    /// <summary>IPv4 (20) + UDP (8) header bytes each packet gains on the underlay.</summary>
    public const int EncapOverhead = 28;
    public const string TunNamePattern = "flannel%d";

    private readonly LinkConfigurator _links = links ?? new LinkConfigurator();
    private readonly UdpDatapathTuning _tuning = tuning ?? UdpDatapathTuning.Default;

    public string Type => "udp";
    public bool RequiresRoot => true;

    public LeaseAttrs CreateLeaseAttrs(ExternalInterface iface) => new(iface.ExtAddr);

    /// <summary>
    /// Creates flannel0 and the forwarding threads. Runs synchronously on the calling thread (the
    /// returned task is already complete), so the TUN, socket and routes belong to that thread's
    /// network namespace.
    /// </summary>
    public Task<IBackendNetwork> StartNetworkAsync(BackendNetworkContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        HostPrerequisites.EnsureRootAndTun(Type);
        var config = UdpBackendConfig.Parse(context.Config.BackendJson);
        var log = context.Log;

        var plan = LanePlan.For(CpuAffinity.AllowedCpus(), _tuning.CpuLanes);
        CpuSteeringPrograms? programs = null;
        if (plan.CpuLanes > 0)
        {
            programs = CpuSteeringPrograms.TryLoad(plan.CpuLanes, out var why);
            if (programs is null)
            {
                WarnNoCpuLanes(why);
                plan = LanePlan.MainLaneOnly;
            }
        }
        try
        {
            return Task.FromResult<IBackendNetwork>(Start(context, config, plan, programs, cancellationToken));
        }
        catch (SteeringUnavailableException e)
        {
            // Loaded but not attachable (a kernel before 4.16 has no TUN steering): everything was
            // undone, so start again the way flannel's proxy runs, on one thread.
            WarnNoCpuLanes(e.Message);
            return Task.FromResult<IBackendNetwork>(Start(context, config, LanePlan.MainLaneOnly, null, cancellationToken));
        }

        void WarnNoCpuLanes(string? why) => log.Warning($"udp backend: no CPU lanes ({why}); one forwarding thread carries all traffic");
    }

    /// <summary>Sets up flannel0, its route and the socket(s) for <paramref name="plan"/>, and starts the forwarder; all or nothing.</summary>
    private UdpNetwork Start(BackendNetworkContext context, UdpBackendConfig config, LanePlan plan, CpuSteeringPrograms? programs,
        CancellationToken cancellationToken)
    {
        var log = context.Log;
        var iface = context.Interface;
        var lease = context.Lease;
        var network = context.Config.Network;
        int mtu = iface.Mtu - EncapOverhead;
        UdpEndpoint[] sockets = [];
        TunDevice[] queues = [];
        UdpForwarder? forwarder = null;
        string? tunName = null;
        var routeAdded = false;
        try
        {
            sockets = UdpEndpoint.BindGroup(iface.IfaceAddr.Value, (ushort)config.Port, plan.Queues,
                [UdpForwarder.MainLaneBatch, .. Enumerable.Repeat(UdpForwarder.CpuLaneBatch, plan.CpuLanes)], gro: _tuning.Offloads);
            queues = TunDevice.OpenQueues(TunNamePattern, plan.Queues, offloads: _tuning.Offloads);
            tunName = queues[0].Name;
            LinkConfigurator.DisableIpv6(tunName);
            _links.SetMtu(tunName, mtu);
            _links.AddAddress(tunName, lease.Subnet.Address, 32);
            _links.SetUp(tunName);
            routeAdded = _links.AddRoute(network, tunName);
            cancellationToken.ThrowIfCancellationRequested();

            forwarder = new UdpForwarder(queues, sockets, plan, programs, new RouteTable(), lease.Subnet.Address, mtu, log,
                statsInterval: _tuning.StatsInterval, slice: _tuning.Slice);
            forwarder.Start();
            if (_tuning.Offloads && (!queues[0].HasVirtioHeader || !sockets[0].GroEnabled || !sockets[0].GsoEnabled || queues[0].Offloads != "csum,tso4,uso4"))
                log.Warning($"udp backend: not every offload is available ({forwarder.Offloads}); the datapath moves those packets one by one");
            log.Info($"udp backend: {tunName} {lease.Subnet.Address}/32 mtu {mtu}, route {network} dev {tunName}, listening on {iface.IfaceAddr}:{config.Port}; {plan}; offloads {forwarder.Offloads}");
            return new UdpNetwork(forwarder, _links, lease, network, routeAdded, (ushort)config.Port, log);
        }
        catch
        {
            if (forwarder is not null) forwarder.Dispose();
            else
            {
                foreach (var q in queues) q.Dispose();
                foreach (var s in sockets) s.Dispose();
                programs?.Dispose();
            }
            if (routeAdded && tunName is not null) _links.DeleteRoute(network, tunName);
            throw;
        }
    }
}
