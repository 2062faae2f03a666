// A TCP transfer across the overlay that must arrive whole: `total` seeded-random bytes from a
// socket in one host's namespace to a listener in the other's, compared by length and SHA-256.
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FlannelPS.Core.Tests.Interop;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed partial class UdpOverlayTests
{
    private static void TransferIntact(OverlayFixture.OverlayHost from, OverlayFixture.OverlayHost to, string address, int port, int total)
    {
        using var listener = to.Thread.Invoke(() =>
        {
            var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l.Bind(new IPEndPoint(IPAddress.Parse(address), port));
            l.Listen(1);
            return l;
        });
        var receiver = Task.Run(() =>
        {
            using var c = listener.Accept();
            c.ReceiveTimeout = 20_000;
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buf = new byte[1 << 16];
            long got = 0;
            int n;
            while ((n = c.Receive(buf)) > 0) { sha.AppendData(buf, 0, n); got += n; }
            return (got, Convert.ToHexString(sha.GetHashAndReset()));
        });
        using var client = from.Thread.Invoke(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        client.SendTimeout = 20_000;
        client.Connect(new IPEndPoint(IPAddress.Parse(address), port));
        var data = new byte[total];
        new Random(port).NextBytes(data);
        client.Send(data);
        client.Shutdown(SocketShutdown.Send);
        Assert.True(receiver.Wait(TimeSpan.FromSeconds(30)), "the transfer did not finish within 30 s");
        var (received, hash) = receiver.Result;
        Assert.Equal(total, received);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), hash);
    }
}
