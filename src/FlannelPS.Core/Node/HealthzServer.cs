// flanneld's health endpoints. /healthz is liveness: flanneld v0.20.2 answers 200 "flanneld is
// running" from the moment the server starts, also while it still waits for the network config.
// /readyz is readiness, as current flannel has it: 200 "flanneld is ready" once the node runs, else
// 503 "flanneld is not ready yet". Bodies carry no newline (Go's w.Write); any method is served, as
// Go's ServeMux does, and HEAD gets the headers only. A minimal HTTP/1.1 responder on a
// TcpListener: one request per connection, bounded reads.
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FlannelPS.Core.Node;

public sealed class HealthzServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<bool> _ready;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public const string LiveBody = "flanneld is running";
    public const string ReadyBody = "flanneld is ready";
    public const string NotReadyBody = "flanneld is not ready yet";

    /// <param name="ready">Asked on each /readyz request; /healthz does not depend on it.</param>
    public HealthzServer(IPAddress address, int port, Func<bool> ready)
    {
        _listener = new TcpListener(address, port);
        _ready = ready;
    }

    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    public void Start()
    {
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[2048];
                var read = 0;
                while (read < buffer.Length)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token).ConfigureAwait(false);
                    if (n == 0) break;
                    read += n;
                    if (Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal)) break;
                }
                var requestLine = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0].Split(' ');
                var method = requestLine.Length >= 2 ? requestLine[0] : "";
                var response = Respond(requestLine.Length >= 2 ? requestLine[1] : "", _ready);
                var bytes = Encoding.ASCII.GetBytes(response.Render(withBody: method != "HEAD"));
                await stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    internal readonly record struct Response(string Status, string Body, bool NoSniff = false)
    {
        public string Render(bool withBody) =>
            $"HTTP/1.1 {Status}\r\nContent-Type: text/plain; charset=utf-8\r\n{(NoSniff ? "X-Content-Type-Options: nosniff\r\n" : "")}" +
            $"Content-Length: {Body.Length}\r\nConnection: close\r\n\r\n{(withBody ? Body : "")}";
    }

    /// <summary>The answer to one request; <paramref name="target"/> is the request target, query included.</summary>
    internal static Response Respond(string target, Func<bool> ready)
    {
        var query = target.IndexOf('?');
        var path = query < 0 ? target : target[..query];
        return path switch
        {
            "/healthz" => new("200 OK", LiveBody),
            "/readyz" => ready() ? new("200 OK", ReadyBody) : new("503 Service Unavailable", NotReadyBody),
            _ => new("404 Not Found", "404 page not found\n", NoSniff: true), // Go's http.NotFound
        };
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
