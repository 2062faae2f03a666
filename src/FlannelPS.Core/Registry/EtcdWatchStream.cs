// One etcd v3 watch stream (bidirectional gRPC). Opening it is one EtcdCaller call, bounded by
// RequestTimeout (the "created" answer must arrive in time); afterwards it lives until cancelled or broken. A watch
// cancelled for compaction becomes RegistryCompactedException so the caller re-lists.
using FlannelPS.Core.Subnet;
using Etcdserverpb;
using Grpc.Core;

namespace FlannelPS.Core.Registry;

internal sealed class EtcdWatchStream(Watch.WatchClient client, EtcdCaller caller, EtcdOptions options) : IAsyncDisposable
{
    private AsyncDuplexStreamingCall<WatchRequest, WatchResponse>? _call;
    private CancellationTokenSource? _life;
    private long _afterRevision;

    public async Task StartAsync(WatchCreateRequest create, long afterRevision, CancellationToken cancellationToken)
    {
        _afterRevision = afterRevision;
        // Through the caller, like any RPC: one bound for the whole opening, and an expired auth
        // token is forgotten and the opening retried once with a fresh login.
        await caller.CallAsync("open a watch on the subnets prefix", async (auth, _, bound) =>
        {
            await DisposeAsync().ConfigureAwait(false); // a previous attempt's call
            var headers = new Metadata { { "hasleader", "true" } }; // etcd's "require leader"
            if (auth is not null) foreach (var e in auth) headers.Add(e);
            _life = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _call = client.Watch(headers, cancellationToken: _life.Token);
            await _call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, bound).ConfigureAwait(false);
            // etcd answers Created first; a compacted start revision then gets a Canceled answer.
            var first = await ReadAsync(bound).ConfigureAwait(false);
            Check(first);
            if (!first.Created)
                throw new Errors.EtcdUnavailableException(options.EndpointList, "the watch on the subnets prefix was not confirmed");
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next response that carries events.</summary>
    public async Task<WatchResponse> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            WatchResponse resp;
            try
            {
                resp = await ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && caller.Map(ex, "watch the subnets prefix") is { } mapped)
            {
                throw mapped;
            }
            Check(resp);
            if (resp.Events.Count > 0) return resp;
        }
    }

    private async Task<WatchResponse> ReadAsync(CancellationToken cancellationToken)
    {
        if (!await _call!.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            throw new Errors.EtcdUnavailableException(options.EndpointList, "the watch stream was closed by the server");
        return _call.ResponseStream.Current;
    }

    private void Check(WatchResponse resp)
    {
        if (resp.CompactRevision != 0) throw new RegistryCompactedException(_afterRevision);
        if (resp.Canceled)
        {
            if (resp.CancelReason.Contains("compacted", StringComparison.OrdinalIgnoreCase)) throw new RegistryCompactedException(_afterRevision);
            throw new Errors.EtcdUnavailableException(options.EndpointList, $"etcd cancelled the watch: {resp.CancelReason}");
        }
    }

    public ValueTask DisposeAsync()
    {
        _life?.Cancel();
        _call?.Dispose();
        _life?.Dispose();
        (_life, _call) = (null, null);
        return ValueTask.CompletedTask;
    }
}
