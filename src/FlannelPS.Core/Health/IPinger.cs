// Sends one ICMP echo; the seam that lets the reachability check run against a fake in tests.
using System.Net.NetworkInformation;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Health;

public interface IPinger
{
    /// <summary>True when an echo reply came back within <paramref name="timeout"/>.</summary>
    Task<bool> PingAsync(Ip4 address, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>System.Net's Ping (raw ICMP socket as root), in the calling process's namespace.</summary>
public sealed class SystemPinger : IPinger
{
    public async Task<bool> PingAsync(Ip4 address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var ping = new Ping();
        try
        {
            var reply = await ping.SendPingAsync(address.ToIPAddress(), timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
            return reply.Status == IPStatus.Success;
        }
        catch (PingException)
        {
            return false;
        }
    }
}
