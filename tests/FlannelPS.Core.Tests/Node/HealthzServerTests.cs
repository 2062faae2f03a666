// /healthz is liveness and /readyz readiness, byte for byte as flanneld answers them over the wire.
using System.Net;
using System.Net.Sockets;
using System.Text;
using FlannelPS.Core.Node;

namespace FlannelPS.Core.Tests.Node;

public sealed class HealthzServerTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HealthzIsTwoHundredWhetherOrNotTheNodeIsReady(bool ready)
    {
        var r = HealthzServer.Respond("/healthz", () => ready);
        Assert.Equal("200 OK", r.Status);
        Assert.Equal("flanneld is running", r.Body);
    }

    [Fact]
    public void ReadyzFollowsReadinessWithHeadFlannelsTexts()
    {
        Assert.Equal(new HealthzServer.Response("503 Service Unavailable", "flanneld is not ready yet"), HealthzServer.Respond("/readyz", () => false));
        Assert.Equal(new HealthzServer.Response("200 OK", "flanneld is ready"), HealthzServer.Respond("/readyz", () => true));
    }

    [Theory]
    [InlineData("/healthz?verbose", "200 OK")]
    [InlineData("/healthz/", "404 Not Found")]
    [InlineData("/", "404 Not Found")]
    [InlineData("", "404 Not Found")]
    public void PathsMatchExactlyAndTheQueryIsIgnored(string target, string status)
    {
        var r = HealthzServer.Respond(target, () => true);
        Assert.Equal(status, r.Status);
        if (status.StartsWith("404", StringComparison.Ordinal)) Assert.Equal("404 page not found\n", r.Body);
    }

    [Fact]
    public async Task OverTheWireHealthzAnswersWhileNotReadyAndHeadGetsNoBody()
    {
        await using var server = new HealthzServer(IPAddress.Loopback, 0, () => false);
        server.Start();
        var port = server.LocalEndpoint.Port;

        var live = await RequestAsync(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", live);
        Assert.Contains("\r\nContent-Length: 19\r\n", live);
        Assert.EndsWith("\r\n\r\nflanneld is running", live);

        var post = await RequestAsync(port, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        Assert.EndsWith("\r\n\r\nflanneld is running", post);

        var head = await RequestAsync(port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
        Assert.Contains("\r\nContent-Length: 19\r\n", head);
        Assert.EndsWith("\r\n\r\n", head);

        var notReady = await RequestAsync(port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", notReady);
        Assert.EndsWith("\r\n\r\nflanneld is not ready yet", notReady);
    }

    private static async Task<string> RequestAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reply = new MemoryStream();
        await stream.CopyToAsync(reply).WaitAsync(TimeSpan.FromSeconds(5));
        return Encoding.ASCII.GetString(reply.ToArray());
    }
}
