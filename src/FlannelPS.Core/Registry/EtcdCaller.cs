// Runs one etcd RPC under the registry's rules: a deadline of EtcdOptions.RequestTimeout (plus a
// token that fires at the same bound, so nothing can hang), the auth token when a user is set
// (re-authenticating once when etcd says it expired), and gRPC failures turned into FlannelExceptions.
using dotnet_etcd;
using Etcdserverpb;
using FlannelPS.Core.Errors;
using Grpc.Core;

namespace FlannelPS.Core.Registry;

internal sealed class EtcdCaller(EtcdOptions options, EtcdClient client)
{
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private volatile Metadata? _authHeaders;

    public async Task<T> CallAsync<T>(string what, Func<Metadata?, DateTime, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(options.RequestTimeout);
            try
            {
                var headers = await GetHeadersAsync(bound.Token, what).ConfigureAwait(false);
                return await call(headers, DateTime.UtcNow + options.RequestTimeout, bound.Token).ConfigureAwait(false);
            }
            catch (RpcException ex) when (attempt == 0 && options.Username is not null && IsExpiredToken(ex))
            {
                _authHeaders = null; // token expired on the server: log in again once
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Map(ex, what) is { } mapped)
            {
                throw mapped;
            }
        }
    }

    private async Task<Metadata?> GetHeadersAsync(CancellationToken cancellationToken, string what)
    {
        if (options.Username is null) return null;
        if (_authHeaders is { } cached) return cached;
        await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_authHeaders is { } again) return again;
            var resp = await client.AuthenticateAsync(new AuthenticateRequest { Name = options.Username, Password = options.Password ?? "" },
                null, DateTime.UtcNow + options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            var headers = new Metadata { { "token", resp.Token } };
            _authHeaders = headers;
            return headers;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.FailedPrecondition)
        {
            throw new FlannelException("FlannelEtcdAuthFailed", FlannelErrorCategory.PermissionDenied,
                $"etcd at {options.EndpointList} refused the login of user '{options.Username}' (needed to {what}): {ex.Status.Detail}. Check -EtcdUsername/-EtcdPassword.",
                options.EndpointList, ex);
        }
        finally
        {
            _authLock.Release();
        }
    }

    private static bool IsExpiredToken(RpcException ex) =>
        ex.StatusCode == StatusCode.Unauthenticated || ex.Status.Detail.Contains("invalid auth token", StringComparison.OrdinalIgnoreCase);

    /// <summary>The FlannelException for a failed call; null leaves the exception as it is.</summary>
    public Exception? Map(Exception ex, string what)
    {
        var endpoints = options.EndpointList;
        var bound = $"{options.RequestTimeout.TotalSeconds:0.###} s";
        switch (ex)
        {
            case FlannelException:
                return null;
            case OperationCanceledException:
                return new EtcdUnavailableException(endpoints, $"no answer within {bound} while trying to {what}", ex);
            case RpcException rpc:
                return rpc.StatusCode switch
                {
                    StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled or StatusCode.Internal =>
                        new EtcdUnavailableException(endpoints, $"could not {what} ({rpc.StatusCode}{Detail(rpc)}; bound {bound})", ex),
                    StatusCode.Unauthenticated or StatusCode.PermissionDenied =>
                        new FlannelException("FlannelEtcdAccessDenied", FlannelErrorCategory.PermissionDenied,
                            $"etcd at {endpoints} denied the request to {what}{Detail(rpc)}. Check -EtcdUsername/-EtcdPassword and the user's role.", endpoints, ex),
                    _ => new FlannelException("FlannelEtcdRequestFailed", FlannelErrorCategory.InvalidOperation,
                            $"etcd at {endpoints} failed the request to {what} ({rpc.StatusCode}{Detail(rpc)}).", endpoints, ex),
                };
            case HttpRequestException or IOException or System.Net.Sockets.SocketException:
                return new EtcdUnavailableException(endpoints, $"could not {what}: {ex.Message}", ex);
            default:
                return null;
        }
    }

    private static string Detail(RpcException rpc) => string.IsNullOrEmpty(rpc.Status.Detail) ? "" : ": " + rpc.Status.Detail;
}
