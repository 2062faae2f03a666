// A running udp backend network: applies peer lease events to the forwarder's route table live
// (no thread restart) and undoes the host setup on dispose.
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.Udp;

public sealed class UdpNetwork : IBackendNetwork
{
    private readonly UdpForwarder _forwarder;
    private readonly IHostNetwork _host;
    private readonly Ip4Net _network;
    private readonly bool _routeAdded;
    private readonly ILog _log;
    private int _disposed;

    internal UdpNetwork(UdpForwarder forwarder, IHostNetwork host, Lease lease, Ip4Net network, bool routeAdded, ushort port, ILog log)
    {
        _forwarder = forwarder;
        _host = host;
        Lease = lease;
        _network = network;
        _routeAdded = routeAdded;
        Port = port;
        _log = log;
    }

    public Lease Lease { get; }
    public ushort Port { get; }
    public int Mtu => _forwarder.Mtu;
    public string TunName => _forwarder.TunName;
    public RouteTable Routes => _forwarder.Routes;
    public Task Completion => _forwarder.Completion;

    /// <summary>The forwarding threads run on their own; this waits for them to fail or for the token.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await _forwarder.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        throw new FlannelException("FlannelDatapathStopped", FlannelErrorCategory.InvalidOperation, "the udp datapath stopped unexpectedly", TunName);
    }
    internal UdpForwarder Forwarder => _forwarder;

    public void HandleEvents(IReadOnlyList<LeaseEvent> events)
    {
        foreach (var e in events)
        {
            var subnet = e.Lease.Subnet;
            if (subnet == Lease.Subnet) continue; // our own lease is never a peer
            if (e.Type == LeaseEventType.Added)
            {
                _log.Info($"Subnet added: {subnet} via {e.Lease.Attrs.PublicIP}:{Port}");
                foreach (var gone in Routes.Set(subnet, e.Lease.Attrs.PublicIP, Port))
                    _log.Warning($"Subnet {gone.Subnet} overlaps {subnet}; its route was replaced");
            }
            else
            {
                _log.Info($"Subnet removed: {subnet}");
                Routes.Remove(subnet);
            }
        }
    }

    public BackendStatistics GetStatistics() => _forwarder.GetStatistics();

    /// <summary>The udp counters alone (what GetStatistics carries as its Detail).</summary>
    public UdpStatistics Udp => _forwarder.GetUdpStatistics();

    /// <summary>Stops the threads, closes flannel0 (the device goes away) and removes the route it added.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        var name = _forwarder.TunName;
        _forwarder.Dispose();
        // The kernel drops routes through a device when it goes away; delete explicitly in case it did not.
        if (_routeAdded) _host.Apply([HostChange.Delete(UdpBackend.NetworkRoute(_network, name))]);
        return ValueTask.CompletedTask;
    }
}
