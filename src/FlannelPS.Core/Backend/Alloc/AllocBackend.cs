// flannel's alloc backend: holds a lease and forwards nothing. Needs no root.
using FlannelPS.Core.Host;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.Alloc;

public sealed class AllocBackend : IBackend
{
    public string Type => "alloc";
    public bool RequiresRoot => false;

    public LeaseAttrs CreateLeaseAttrs(ExternalInterface iface) => new(iface.ExtAddr);

    public Task<IBackendNetwork> StartNetworkAsync(BackendNetworkContext context, CancellationToken cancellationToken) =>
        Task.FromResult<IBackendNetwork>(new AllocNetwork(context.Interface.Mtu));

    private sealed class AllocNetwork(int mtu) : IBackendNetwork
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Mtu { get; } = mtu;
        public Task Completion => _completion.Task;
        public void HandleEvents(IReadOnlyList<LeaseEvent> events) { }
        public BackendStatistics GetStatistics() => BackendStatistics.Empty;
        public ValueTask DisposeAsync() { _completion.TrySetResult(); return ValueTask.CompletedTask; }
    }
}
