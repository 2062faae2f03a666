// A backend turns a lease into connectivity, in flannel's order: Prepare before the lease (vxlan
// creates its device there, because the lease advertises its MAC), Start once the lease is held,
// then the running network is fed peer events and runs until cancelled. Disposing a backend that
// never started undoes what Prepare made; once started, the network owns it.
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend;

public interface IBackend : IAsyncDisposable
{
    /// <summary>What this backend is and what it leaves in the kernel, for the node, the checks and the traffic rules.</summary>
    BackendDescription Description { get; }

    /// <summary>Creates what the lease must advertise and returns the attributes to write into it.</summary>
    Task<LeaseAttrs> PrepareAsync(BackendContext context, CancellationToken cancellationToken);

    /// <summary>Sets up the datapath for <paramref name="lease"/> (addresses, routes, sockets); all or nothing.</summary>
    Task<IBackendNetwork> StartAsync(Lease lease, CancellationToken cancellationToken);
}

public sealed record BackendContext(NetworkConfig Config, ExternalInterface Interface, ILog Log);

public interface IBackendNetwork : IAsyncDisposable
{
    /// <summary>MTU written to subnet.env as FLANNEL_MTU.</summary>
    int Mtu { get; }

    /// <summary>Applies peer lease events; called from the node's event loop, never concurrently.</summary>
    void HandleEvents(IReadOnlyList<LeaseEvent> events);

    /// <summary>Live counters; safe to call from any thread.</summary>
    BackendStatistics GetStatistics();

    /// <summary>
    /// Keeps the datapath working (forwarding threads, repair passes) until cancelled, then ends with
    /// OperationCanceledException; any other end is a datapath failure.
    /// </summary>
    Task RunAsync(CancellationToken cancellationToken);

    // DisposeAsync stops forwarding and removes what the backend created that must not outlive it.
}
