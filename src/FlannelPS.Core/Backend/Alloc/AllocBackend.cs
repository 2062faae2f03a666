// flannel's alloc backend: holds a lease and forwards nothing. Needs no root.
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.Alloc;

public sealed class AllocBackend : IBackend
{
    public const string TypeName = "alloc";

    private int _mtu;

    public static BackendDescription Descriptor { get; } = new() { Type = TypeName, Forwards = false, PeerRoutes = PeerRouteStyle.None };

    public static BackendKind Kind { get; } = new(TypeName, _ => Descriptor, () => new AllocBackend());

    public BackendDescription Description => Descriptor;

    public Task<LeaseAttrs> PrepareAsync(BackendContext context, CancellationToken cancellationToken)
    {
        _mtu = context.Interface.Mtu;
        return Task.FromResult(new LeaseAttrs(context.Interface.ExtAddr));
    }

    public Task<IBackendNetwork> StartAsync(Lease lease, CancellationToken cancellationToken) =>
        Task.FromResult<IBackendNetwork>(new AllocNetwork(_mtu));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class AllocNetwork(int mtu) : IBackendNetwork
    {
        public int Mtu { get; } = mtu;
        public void HandleEvents(IReadOnlyList<LeaseEvent> events) { }
        public BackendStatistics GetStatistics() => BackendStatistics.Empty;
        public Task RunAsync(CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
