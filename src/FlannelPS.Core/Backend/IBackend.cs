// A backend turns a lease into connectivity. The node asks it for the attributes to advertise,
// acquires the lease, then starts the backend's network and feeds it peer events until stopped.
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend;

public interface IBackend
{
    /// <summary>Lower-case type name as in the config ("udp", "alloc").</summary>
    string Type { get; }

    /// <summary>True when the backend needs root (TUN, routes); the node checks before starting.</summary>
    bool RequiresRoot { get; }

    /// <summary>Attributes to write into this node's lease value.</summary>
    LeaseAttrs CreateLeaseAttrs(ExternalInterface iface);

    /// <summary>
    /// Sets up the datapath for the lease (devices, addresses, routes, sockets) and returns the running
    /// network. Anything created is removed again if this throws.
    /// </summary>
    Task<IBackendNetwork> StartNetworkAsync(BackendNetworkContext context, CancellationToken cancellationToken);
}

public sealed record BackendNetworkContext(NetworkConfig Config, Lease Lease, ExternalInterface Interface, ILog Log);

public interface IBackendNetwork : IAsyncDisposable
{
    /// <summary>MTU written to subnet.env as FLANNEL_MTU.</summary>
    int Mtu { get; }

    /// <summary>Applies peer lease events; called from the node's event loop, never concurrently.</summary>
    void HandleEvents(IReadOnlyList<LeaseEvent> events);

    /// <summary>Live counters (per peer where the backend forwards); safe to call from any thread.</summary>
    BackendStatistics GetStatistics();

    /// <summary>Completes when the datapath fails or stops; a fault is the reason.</summary>
    Task Completion { get; }

    // DisposeAsync stops forwarding and removes what StartNetworkAsync created (TUN, routes).
}
