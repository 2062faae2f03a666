// flannel's default backend: a TUN device flannel0 whose packets travel to peers as the
// bare payload of UDP datagrams on port 8285. This class sets the host up; UdpForwarder moves packets.
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.Udp;

public sealed class UdpBackend(IHostNetwork? host = null, UdpDatapathTuning? tuning = null) : IBackend
{
    public const string TypeName = "udp";
    public const string DeviceName = "flannel0";

    /// <summary>IPv4 (20) + UDP (8) header bytes each packet gains on the underlay.</summary>
    public const int EncapOverhead = 28;
    public const string TunNamePattern = "flannel%d";

    private readonly IHostNetwork _host = host ?? new RtnetlinkHostNetwork();
    private readonly UdpDatapathTuning _tuning = tuning ?? UdpDatapathTuning.Default;

    private BackendContext? _context;
    private UdpBackendConfig _config = UdpBackendConfig.Default;

    public static BackendKind Kind(UdpDatapathTuning? tuning = null, IHostNetwork? host = null) =>
        new(TypeName, json => Describe(UdpBackendConfig.Parse(json)), () => new UdpBackend(host, tuning));

    public static BackendDescription Describe(UdpBackendConfig config) => new()
    {
        Type = TypeName,
        RequiresRoot = true,
        NeedsTun = true,
        Device = DeviceName,
        EncapOverhead = EncapOverhead,
        PeerRoutes = PeerRouteStyle.NetworkThroughDevice,
        UdpPort = config.Port,
        ConfigKeys = ["Port"],
    };

    public BackendDescription Description => Describe(_config);

    /// <summary>The udp lease carries only the PublicIP; nothing is created before it.</summary>
    public Task<LeaseAttrs> PrepareAsync(BackendContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _config = UdpBackendConfig.Parse(context.Config.BackendJson);
        _context = context;
        return Task.FromResult(new LeaseAttrs(context.Interface.ExtAddr));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Creates flannel0 and the forwarding threads. Runs synchronously on the calling thread (the
    /// returned task is already complete), so the TUN, socket and routes belong to that thread's
    /// network namespace.
    /// </summary>
    public Task<IBackendNetwork> StartAsync(Lease lease, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var context = _context ?? throw new InvalidOperationException("StartAsync before PrepareAsync");
        var config = _config;
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
            return Task.FromResult<IBackendNetwork>(Start(context, lease, config, plan, programs, cancellationToken));
        }
        catch (SteeringUnavailableException e)
        {
            // Loaded but not attachable (a kernel before 4.16 has no TUN steering): everything was
            // undone, so start again the way flannel's proxy runs, on one thread.
            WarnNoCpuLanes(e.Message);
            return Task.FromResult<IBackendNetwork>(Start(context, lease, config, LanePlan.MainLaneOnly, null, cancellationToken));
        }

        void WarnNoCpuLanes(string? why) => log.Warning($"udp backend: no CPU lanes ({why}); one forwarding thread carries all traffic");
    }

    /// <summary>Sets up flannel0, its route and the socket(s) for <paramref name="plan"/>, and starts the forwarder; all or nothing.</summary>
    private UdpNetwork Start(BackendContext context, Lease lease, UdpBackendConfig config, LanePlan plan, CpuSteeringPrograms? programs,
        CancellationToken cancellationToken)
    {
        var log = context.Log;
        var iface = context.Interface;
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
            LinkSysctl.DisableIpv6(tunName);
            _host.SetMtu(tunName, mtu);
            _host.AddAddress(tunName, new HostAddress(lease.Subnet.Address, 32));
            _host.SetUp(tunName);
            // An identical route already there (EEXIST) is fine, as flannel has it; it is then not ours to remove.
            var route = _host.Apply([HostChange.Add(NetworkRoute(network, tunName))])[0];
            if (!route.Succeeded && !route.IsExists) throw Failed(route);
            routeAdded = route.Succeeded;
            cancellationToken.ThrowIfCancellationRequested();

            forwarder = new UdpForwarder(queues, sockets, plan, programs, new RouteTable(), lease.Subnet.Address, mtu, log,
                statsInterval: _tuning.StatsInterval, slice: _tuning.Slice, mainLaneNice: _tuning.MainLaneNice);
            forwarder.Start();
            if (_tuning.Offloads && (!queues[0].HasVirtioHeader || !sockets[0].GroEnabled || !sockets[0].GsoEnabled || queues[0].Offloads != "csum,tso4,uso4"))
                log.Warning($"udp backend: not every offload is available ({forwarder.Offloads}); the datapath moves those packets one by one");
            log.Info($"udp backend: {tunName} {lease.Subnet.Address}/32 mtu {mtu}, route {network} dev {tunName}, listening on {iface.IfaceAddr}:{config.Port}; {plan}; offloads {forwarder.Offloads}");
            return new UdpNetwork(forwarder, _host, lease, network, routeAdded, (ushort)config.Port, log);
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
            if (routeAdded && tunName is not null) _host.Apply([HostChange.Delete(NetworkRoute(network, tunName))]);
            throw;
        }
    }

    /// <summary>The route that sends the whole overlay Network into flannel0: `NETWORK dev flannel0`.</summary>
    internal static HostRoute NetworkRoute(Net.Ip4Net network, string tunName) => new(network, tunName, null);

    private static HostNetworkException Failed(HostChangeResult r) =>
        new(r.Operation ?? "add route", r.Change.Entry.ToString()!, r.Errno, r.Error ?? $"errno {r.Errno}");
}
