// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET ("@name" is an abstract socket).
// A failed notification is logged, never fatal: the node runs either way, and systemd's start
// timeout is what reports a Type=notify service that never said READY=1.
using System.Net.Sockets;
using System.Text;
using FlannelPS.Core.Diagnostics;

namespace FlannelPS.Core.Node;

public static class SystemdNotifier
{
    /// <summary>Sends <paramref name="state"/> (e.g. "READY=1") when run under systemd. False when
    /// NOTIFY_SOCKET is unset, or when sending failed (logged to <paramref name="log"/>).</summary>
    public static bool Notify(string state, string? socketPath = null, ILog? log = null)
    {
        socketPath ??= Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(socketPath)) return false;
        var address = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(address));
            socket.Send(Encoding.UTF8.GetBytes(state));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException)
        {
            log?.Warning($"Failed to notify systemd ({state}) at NOTIFY_SOCKET={socketPath}: {ex.Message}");
            return false;
        }
    }
}
