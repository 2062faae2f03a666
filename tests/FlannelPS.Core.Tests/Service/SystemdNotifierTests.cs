using System.Net.Sockets;
using System.Text;
using FlannelPS.Core.Node;
using FlannelPS.Core.Tests.Fakes;

namespace FlannelPS.Core.Tests.Service;

public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fpsv-notify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SendsExactlyTheStateAsOneDatagram()
    {
        var path = Path.Combine(_dir, "notify.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(SystemdNotifier.Notify("READY=1", path));
        var buffer = new byte[64];
        listener.ReceiveTimeout = 2000;
        var n = listener.Receive(buffer);
        Assert.Equal("READY=1", Encoding.UTF8.GetString(buffer, 0, n));
    }

    [Fact]
    public void AnAbstractSocketNameIsUnderstood()
    {
        var name = $"fpsv-notify-{Guid.NewGuid():N}";
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        Assert.True(SystemdNotifier.Notify("READY=1", "@" + name));
        var buffer = new byte[64];
        listener.ReceiveTimeout = 2000;
        Assert.Equal("READY=1", Encoding.UTF8.GetString(buffer, 0, listener.Receive(buffer)));
    }

    [Fact]
    public void AMissingSocketIsLoggedNotThrown()
    {
        var log = new ListLog();
        Assert.False(SystemdNotifier.Notify("READY=1", Path.Combine(_dir, "absent.sock"), log));
        Assert.True(log.Contains("Failed to notify systemd"));
    }
}
