// flanneld's health endpoint: GET /healthz answers 200 while the node holds its lease and its
// datapath runs, 503 otherwise; GET /readyz answers the same question the way HEAD words it.
// A minimal HTTP/1.0 responder on a TcpListener: one request per connection, bounded reads.
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FlannelPS.Core.Node;

public sealed class HealthzServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<bool> _healthy;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public HealthzServer(IPAddress address, int port, Func<bool> healthy)
    {
        _listener = new TcpListener(address, port);
        _healthy = healthy;
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
                var (status, body) = Route(requestLine.Length >= 2 ? requestLine[0] : "", requestLine.Length >= 2 ? requestLine[1] : "");
                var bytes = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
                await stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    private (string Status, string Body) Route(string method, string path)
    {
        if (method != "GET") return ("405 Method Not Allowed", "method not allowed\n");
        var healthy = _healthy();
        return path switch
        {
            "/healthz" => healthy ? ("200 OK", "flanneld is running\n") : ("503 Service Unavailable", "flanneld is not running\n"),
            "/readyz" => healthy ? ("200 OK", "flanneld is ready\n") : ("503 Service Unavailable", "flanneld is not ready yet\n"),
            _ => ("404 Not Found", "not found\n"),
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
