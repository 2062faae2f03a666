// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET ("@name" is an abstract socket).
using System.Net.Sockets;
using System.Text;

namespace FlannelPS.Core.Node;

public static class SystemdNotifier
{
    /// <summary>Sends <paramref name="state"/> (e.g. "READY=1") when run under systemd; false when NOTIFY_SOCKET is unset.</summary>
    public static bool Notify(string state, string? socketPath = null)
    {
        socketPath ??= Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(socketPath)) return false;
        if (socketPath[0] == '@') socketPath = "\0" + socketPath[1..];
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        socket.Send(Encoding.UTF8.GetBytes(state));
        return true;
    }
}
