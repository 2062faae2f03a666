// flannel's default backend (spec §4): a TUN device flannel0 whose packets travel to peers as the
// bare payload of UDP datagrams on port 8285. This class sets the host up; UdpForwarder moves packets.
using FlannelPS.Core.Datapath;
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
        var iface = context.Interface;
        var lease = context.Lease;
        var network = context.Config.Network;
        int mtu = iface.Mtu - EncapOverhead;

        UdpEndpoint? udp = null;
        TunDevice? tun = null;
        UdpForwarder? forwarder = null;
        string? tunName = null;
        var routeAdded = false;
        try
        {
            udp = UdpEndpoint.Bind(iface.IfaceAddr.Value, (ushort)config.Port, batchCapacity: 32);
            tun = TunDevice.Open(TunNamePattern);
            tunName = tun.Name;
            LinkConfigurator.DisableIpv6(tunName);
            _links.SetMtu(tunName, mtu);
            _links.AddAddress(tunName, lease.Subnet.Address, 32);
            _links.SetUp(tunName);
            routeAdded = _links.AddRoute(network, tunName);
            cancellationToken.ThrowIfCancellationRequested();

            forwarder = new UdpForwarder(tun, udp, new RouteTable(), lease.Subnet.Address, mtu, log,
                statsInterval: _tuning.StatsInterval, slice: _tuning.Slice);
            forwarder.Start();
            log.Info($"udp backend: {tunName} {lease.Subnet.Address}/32 mtu {mtu}, route {network} dev {tunName}, listening on {iface.IfaceAddr}:{config.Port}");
            return Task.FromResult<IBackendNetwork>(new UdpNetwork(forwarder, _links, lease, network, routeAdded, (ushort)config.Port, log));
        }
        catch
        {
            if (forwarder is not null) forwarder.Dispose();
            else { tun?.Dispose(); udp?.Dispose(); }
            if (routeAdded && tunName is not null) _links.DeleteRoute(network, tunName);
            throw;
        }
    }
}
