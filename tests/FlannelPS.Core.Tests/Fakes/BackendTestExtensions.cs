// Starting a backend in one step for tests that hold the lease already: Prepare, then Start, on
// the calling thread (so a backend that opens fds there gets that thread's namespace).
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Tests;

public sealed record BackendNetworkContext(NetworkConfig Config, Lease Lease, ExternalInterface Interface, ILog Log);

internal static class BackendTestExtensions
{
    public static async Task<IBackendNetwork> StartNetworkAsync(this IBackend backend, BackendNetworkContext context, CancellationToken cancellationToken)
    {
        await backend.PrepareAsync(new BackendContext(context.Config, context.Interface, context.Log), cancellationToken).ConfigureAwait(false);
        return await backend.StartAsync(context.Lease, cancellationToken).ConfigureAwait(false);
    }
}
