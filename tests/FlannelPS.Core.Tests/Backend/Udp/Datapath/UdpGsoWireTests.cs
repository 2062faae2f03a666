// Wire compatibility of the batched send path (UDP GSO) and integrity of bulk TCP through the
// overlay. Part of the OverlayFixture collection: fixtures reuse namespace names, so they must not
// run side by side.
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Tests.Interop;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed partial class UdpOverlayTests
{
    [Fact]
    public void Bursts_leave_as_plain_flannel_datagrams_a_plain_socket_reads_one_packet_at_a_time()
    {
        // A "real flanneld" peer: a plain UDP socket on 192.0.2.4:8285 reading one datagram per call.
        using var d = new TestNamespace("d");
        d.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "pd", "netns", fx.Switch.Name).Ok("veth");
        fx.Switch.Ip("link", "set", "pd", "master", "br0", "up").Ok("port");
        d.Ip("addr", "add", "192.0.2.4/24", "dev", "eth0").Ok("addr");
        d.Ip("link", "set", "eth0", "up").Ok("eth0 up");
        using var dThread = new NetnsThread(d.Name);
        using var peer = dThread.Invoke(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 8 << 20, ReceiveTimeout = 3000 };
            s.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.4"), 8285));
            return s;
        });
        var lease = new Lease { Subnet = Ip4Net.Parse("10.0.4.0/24"), Attrs = new LeaseAttrs(Ip4.Parse("192.0.2.4")) };
        fx.A.Net.HandleEvents([new LeaseEvent(LeaseEventType.Added, lease)]);
        try
        {
            const int count = 400;
            var gsoBefore = fx.A.Net.Forwarder.GsoMessages;
            // A tight burst so the TUN queue holds many packets per read batch: runs of equal size
            // (1400-byte payloads) with a shorter one every 50th, which must end a GSO run.
            fx.A.Thread.Invoke(() =>
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                var payload = new byte[1400];
                var to = new IPEndPoint(IPAddress.Parse("10.0.4.1"), 9);
                for (int i = 0; i < count; i++)
                {
                    // Bursts of 40 (enough for multi-packet GSO runs) with a breath between them, so a
                    // loaded machine does not overflow the TUN queue and turn this into a loss test.
                    if (i > 0 && i % 40 == 0) Thread.Sleep(5);
                    int len = i % 50 == 49 ? 300 + i : payload.Length;
                    BinaryPrimitives.WriteInt32BigEndian(payload, i);
                    payload.AsSpan(4, len - 4).Fill((byte)i);
                    s.SendTo(payload.AsSpan(0, len), to);
                }
            });

            var buf = new byte[65536];
            var seen = new List<int>();
            var deadline = Environment.TickCount64 + 10_000;
            while (seen.Count < count && Environment.TickCount64 < deadline)
            {
                int n;
                try { n = peer.Receive(buf); }
                catch (SocketException) { break; } // receive timeout: nothing more is coming
                var dgram = buf.AsSpan(0, n);
                Assert.True(n <= fx.A.Net.Mtu, $"datagram of {n} bytes exceeds the overlay MTU {fx.A.Net.Mtu}");
                // Exactly one inner IPv4 packet, no header: total length == datagram length.
                Assert.Equal(0x45, dgram[0]);
                Assert.Equal(n, BinaryPrimitives.ReadUInt16BigEndian(dgram[2..]));
                Assert.Equal(0, Checksum.Of(dgram[..20]));
                Assert.Equal(17, dgram[9]);
                Assert.Equal(new byte[] { 10, 0, 4, 1 }, dgram[16..20].ToArray());
                var udp = dgram[20..];
                Assert.Equal(n - 20, BinaryPrimitives.ReadUInt16BigEndian(udp[4..]));
                int seq = BinaryPrimitives.ReadInt32BigEndian(udp[8..]);
                int expectedLen = seq % 50 == 49 ? 300 + seq : 1400;
                Assert.Equal(expectedLen, udp.Length - 8);
                Assert.True(udp[12..].IndexOfAnyExcept((byte)seq) < 0, $"payload of datagram {seq} is corrupt");
                seen.Add(seq);
            }
            // Loss is not a wire property, but a send path that drops segments would lose whole runs:
            // allow at most 2% (scheduling noise on a shared 2-core machine), never reordering or duplicates.
            Assert.True(seen.Count >= count * 98 / 100, $"only {seen.Count} of {count} datagrams arrived");
            Assert.Equal(seen.Order(), seen);
            Assert.Equal(seen.Count, seen.Distinct().Count());
            Assert.True(fx.A.Net.Forwarder.GsoEnabled, "GSO was switched off");
            Assert.True(fx.A.Net.Forwarder.GsoMessages > gsoBefore, "no GSO message was sent: the test did not exercise GSO");
            output.WriteLine($"GSO messages for {count} datagrams: {fx.A.Net.Forwarder.GsoMessages - gsoBefore}");
        }
        finally
        {
            fx.A.Net.HandleEvents([new LeaseEvent(LeaseEventType.Removed, lease)]);
        }
    }

    [Fact]
    public void Ten_megabytes_of_tcp_arrive_byte_identical() => TransferIntact(fx.A, fx.B, "10.0.2.0", 5301, 10 << 20);
}
