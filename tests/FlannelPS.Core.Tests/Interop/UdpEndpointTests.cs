// The underlay socket's receive and send calls, one by one, on loopback inside a test namespace:
// the lone-datagram path (recvfrom) and the batch path (recvmmsg, whose headers are set up once and
// only reset after use) must report the same lengths, truncation, peers and bytes, on every call;
// a lone send (sendto) and a batch send (sendmmsg) must both deliver exactly the slot's bytes.
using System.Net;
using System.Net.Sockets;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Tests.Fakes;

namespace FlannelPS.Core.Tests.Interop;

public sealed class UdpEndpointTests : IDisposable
{
    private const uint Loopback = 0x7f000001;
    private readonly TestNamespace _ns = new("udpep");
    private readonly NetnsThread _thread;

    public UdpEndpointTests() => _thread = new NetnsThread(_ns.Name);

    public void Dispose()
    {
        _thread.Dispose();
        _ns.Dispose();
    }

    private static byte[] Payload(int length, byte seed)
    {
        var b = new byte[length];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)(seed + i);
        return b;
    }

    /// <summary>A plain UDP socket on 127.0.0.1, any port (inside the test namespace).</summary>
    private static Socket LoopbackSocket()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return s;
    }

    /// <summary>Calls a receive until it returns a datagram (bounded: 5 s).</summary>
    private static int Receive(Func<int> call)
    {
        int n = 0;
        Eventually.True(() => (n = call()) != 0, "a datagram");
        return n;
    }

    [Fact]
    public void ReceiveOne_reports_length_peer_and_bytes_and_flags_an_oversize_datagram_with_its_full_length()
    {
        _thread.Invoke(() =>
        {
            using var ep = UdpEndpoint.Bind(Loopback, 0, batchCapacity: 4);
            using var sender = LoopbackSocket();
            var to = new IPEndPoint(IPAddress.Loopback, ep.LocalPort);
            var batch = new PacketBatch(4, 128);

            Assert.Equal(0, ep.ReceiveOne(batch)); // nothing queued: EAGAIN, not a block

            var small = Payload(100, 3);
            sender.SendTo(small, to);
            Assert.Equal(1, Receive(() => ep.ReceiveOne(batch)));
            Assert.Equal(100, batch.Lengths[0]);
            Assert.False(batch.Truncated[0]);
            Assert.Equal(Loopback, batch.Addresses[0]);
            Assert.Equal(((IPEndPoint)sender.LocalEndPoint!).Port, batch.Ports[0]);
            Assert.Equal(small, batch.Packet(0).ToArray());

            sender.SendTo(Payload(300, 9), to);
            Assert.Equal(1, Receive(() => ep.ReceiveOne(batch)));
            Assert.True(batch.Truncated[0]);
            Assert.Equal(300, batch.Lengths[0]);
            Assert.Equal(0, ep.ReceiveOne(batch));
        });
    }

    [Fact]
    public void ReceiveBatch_is_right_on_every_call_after_a_truncated_datagram_and_after_ReceiveOne()
    {
        _thread.Invoke(() =>
        {
            using var ep = UdpEndpoint.Bind(Loopback, 0, batchCapacity: 4);
            using var sender = LoopbackSocket();
            var to = new IPEndPoint(IPAddress.Loopback, ep.LocalPort);
            var batch = new PacketBatch(4, 128);

            Assert.Equal(0, ep.ReceiveBatch(batch));
            sender.SendTo(Payload(50, 1), to);
            sender.SendTo(Payload(300, 2), to);
            sender.SendTo(Payload(60, 3), to);
            var lengths = new List<int>();
            var truncated = new List<bool>();
            Eventually.True(() =>
            {
                int n = ep.ReceiveBatch(batch);
                for (int i = 0; i < n; i++) { lengths.Add(batch.Lengths[i]); truncated.Add(batch.Truncated[i]); }
                return lengths.Count >= 3;
            }, "three datagrams");
            Assert.Equal([50, 300, 60], lengths);
            Assert.Equal([false, true, false], truncated);

            // The header that held the truncated datagram is reused: its flags must have been reset.
            sender.SendTo(Payload(70, 4), to);
            Assert.Equal(1, Receive(() => ep.ReceiveOne(batch)));
            sender.SendTo(Payload(80, 5), to);
            sender.SendTo(Payload(90, 6), to);
            lengths.Clear(); truncated.Clear();
            Eventually.True(() =>
            {
                int n = ep.ReceiveBatch(batch);
                for (int i = 0; i < n; i++)
                {
                    lengths.Add(batch.Lengths[i]);
                    truncated.Add(batch.Truncated[i]);
                    Assert.Equal(Payload(batch.Lengths[i], (byte)(batch.Lengths[i] == 80 ? 5 : 6)), batch.Packet(i).ToArray());
                    Assert.Equal(Loopback, batch.Addresses[i]);
                }
                return lengths.Count >= 2;
            }, "two datagrams");
            Assert.Equal([80, 90], lengths);
            Assert.Equal([false, false], truncated);
            Assert.Equal(0, ep.ReceiveBatch(batch));
        });
    }

    [Theory]
    [InlineData(1)] // sendto
    [InlineData(3)] // sendmmsg
    public void SendBatch_delivers_each_slot_exactly(int count)
    {
        _thread.Invoke(() =>
        {
            using var ep = UdpEndpoint.Bind(Loopback, 0, batchCapacity: 4, gso: false);
            using var receiver = LoopbackSocket();
            receiver.ReceiveTimeout = 5_000;
            var batch = new PacketBatch(4, 128);
            var slots = new int[count];
            for (int i = 0; i < count; i++)
            {
                var p = Payload(40 + i, (byte)(7 * i));
                p.CopyTo(batch.Slot(i));
                batch.Lengths[i] = p.Length;
                batch.Addresses[i] = Loopback;
                batch.Ports[i] = (ushort)((IPEndPoint)receiver.LocalEndPoint!).Port;
                slots[i] = i;
            }
            Assert.Equal(0, ep.SendBatch(batch, slots));
            var buffer = new byte[256];
            for (int i = 0; i < count; i++)
            {
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                int n = receiver.ReceiveFrom(buffer, ref from);
                Assert.Equal(Payload(40 + i, (byte)(7 * i)), buffer.AsSpan(0, n).ToArray());
                Assert.Equal(ep.LocalPort, ((IPEndPoint)from).Port);
            }
        });
    }

    [Fact]
    public void A_socket_group_will_not_share_a_port_anyone_holds_even_with_SO_REUSEPORT()
    {
        _thread.Invoke(() =>
        {
            // Held by a plain socket (as real flanneld holds 8285): the group's first bind fails, naming it.
            using (var plain = UdpEndpoint.Bind(Loopback, 0, batchCapacity: 1))
            {
                var port = plain.LocalPort;
                var ex = Assert.ThrowsAny<IOException>(() => UdpEndpoint.BindGroup(Loopback, port, 3, [4, 4, 4]));
                Assert.Contains($"127.0.0.1:{port}", ex.Message);
            }
            // Held by another group (another node): SO_REUSEPORT would let a second group join it
            // silently and split the traffic; the plain probe bind refuses instead.
            var group = UdpEndpoint.BindGroup(Loopback, 0, 3, [4, 4, 4]); // the kernel picks one port for all three
            try
            {
                ushort shared = group[0].LocalPort;
                Assert.NotEqual(0, shared);
                Assert.All(group, e => Assert.Equal(shared, e.LocalPort));
                var ex = Assert.ThrowsAny<IOException>(() => UdpEndpoint.BindGroup(Loopback, shared, 2, [4, 4]));
                Assert.Contains($"127.0.0.1:{shared}", ex.Message);
            }
            finally
            {
                foreach (var e in group) e.Dispose();
            }
        });
    }
}
