// Real TUN tests: three namespaces running UdpBackend over a bridged underlay (OverlayFixture).
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Tests.Fakes;
using FlannelPS.Core.Tests.Interop;
using Xunit.Abstractions;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed partial class UdpOverlayTests(OverlayFixture fx, ITestOutputHelper output) : IClassFixture<OverlayFixture>
{
    private static Sh.Result Ping(TestNamespace ns, string dst, int count = 3) =>
        ns.Exec(20_000, "ping", "-n", "-c", count.ToString(), "-i", "0.2", "-W", "2", dst);

    [Fact]
    public void Ping_crosses_the_overlay_and_each_proxy_decrements_the_ttl()
    {
        var before = fx.A.Net.GetStatistics().Peers.Single(p => p.Subnet == "10.0.2.0/24");
        var r = Ping(fx.A.Ns, "10.0.2.0");
        Assert.True(r.Code == 0, r.Out + r.Err);
        // 64 − proxy A − proxy B = 62, both ways (the replies show the reverse path's TTL).
        Assert.Contains("ttl=62", r.Out);
        var after = fx.A.Net.GetStatistics().Peers.Single(p => p.Subnet == "10.0.2.0/24");
        Assert.True(after.TxPackets - before.TxPackets >= 3);
        Assert.True(after.RxPackets - before.RxPackets >= 3);
        Assert.Equal("192.0.2.2", after.PublicIP);
    }

    [Fact]
    public void Underlay_carries_udp_8285_whose_payload_is_exactly_the_inner_packet()
    {
        using var cap = new Capture(fx.Switch.Name, "pb", "udp and port 8285 and src host 192.0.2.1", 1);
        var r = fx.A.Ns.Exec(10_000, "ping", "-n", "-c", "1", "-s", "100", "-p", "ab", "-W", "2", "10.0.2.0");
        Assert.True(r.Code == 0, r.Out + r.Err);
        var (link, packets) = cap.Finish();
        var outer = Pcap.Ipv4Of(link, Assert.Single(packets))!;
        Assert.NotNull(outer);
        Assert.Equal(new byte[] { 192, 0, 2, 1 }, outer[12..16]);
        Assert.Equal(new byte[] { 192, 0, 2, 2 }, outer[16..20]);
        Assert.Equal(17, outer[9]);
        var udp = outer[((outer[0] & 15) * 4)..];
        Assert.Equal(8285, BinaryPrimitives.ReadUInt16BigEndian(udp));
        Assert.Equal(8285, BinaryPrimitives.ReadUInt16BigEndian(udp.AsSpan(2)));
        var inner = udp[8..];
        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(udp.AsSpan(4)) - 8, inner.Length);
        // No flannel header: the payload starts with the inner IPv4 header, whose length is the whole payload.
        Assert.Equal(0x45, inner[0]);
        Assert.Equal(inner.Length, BinaryPrimitives.ReadUInt16BigEndian(inner.AsSpan(2)));
        Assert.Equal(128, inner.Length); // 20 IP + 8 ICMP + 100 data
        Assert.Equal(new byte[] { 10, 0, 1, 0 }, inner[12..16]);
        Assert.Equal(new byte[] { 10, 0, 2, 0 }, inner[16..20]);
        Assert.Equal(1, inner[9]);
        Assert.Equal(63, inner[8]); // sent with 64, one proxy hop
        Assert.Equal(0, Checksum.Of(inner.AsSpan(0, 20)));
        Assert.All(inner[(28 + 16)..], b => Assert.Equal(0xab, b)); // ping's pattern after its timestamp
    }

    [Fact]
    public void Unknown_destination_gets_icmp_net_unreachable_written_into_flannel0()
    {
        var dropsBefore = fx.A.Net.Udp.DroppedNoRoute;
        using var cap = new Capture(fx.A.Ns.Name, "flannel0", "icmp and icmp[0] == 3", 1);
        // A UDP datagram (an ICMP offender would get no ICMP error, RFC 792) to a subnet with no peer.
        fx.A.Thread.Invoke(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.SendTo("probe"u8.ToArray(), new IPEndPoint(IPAddress.Parse("10.0.99.1"), 9));
        });
        var (link, packets) = cap.Finish();
        Assert.True(packets.Count == 1, $"captured {packets.Count}; icmp sent {fx.A.Net.Forwarder.IcmpUnreachableSent}, no-route drops {fx.A.Net.Udp.DroppedNoRoute - dropsBefore}");
        var icmp = Pcap.Ipv4Of(link, packets[0])!;
        Assert.NotNull(icmp);
        Assert.Equal(0x45, icmp[0]);
        Assert.Equal(8, icmp[8]);
        Assert.Equal(1, icmp[9]);
        Assert.Equal(new byte[] { 10, 0, 1, 0 }, icmp[12..16]); // from flannel0's address
        Assert.Equal(new byte[] { 10, 0, 1, 0 }, icmp[16..20]); // to the offender's source
        Assert.Equal(0, Checksum.Of(icmp.AsSpan(0, 20)));
        var body = icmp[20..];
        Assert.Equal(3, body[0]);
        Assert.Equal(0, body[1]);
        Assert.Equal(0, Checksum.Of(body));
        var quoted = body[8..];
        Assert.Equal(28, quoted.Length); // the offender's 20-byte header + 8 bytes
        Assert.Equal(new byte[] { 10, 0, 99, 1 }, quoted[16..20]);
        Assert.Equal(17, quoted[9]);
        Assert.Equal(9, BinaryPrimitives.ReadUInt16BigEndian(quoted.AsSpan(22))); // the UDP header's destination port
        Assert.True(fx.A.Net.Udp.DroppedNoRoute > dropsBefore);
    }

    [Fact]
    public void Oversize_and_undersize_datagrams_are_dropped_and_counted_never_truncated()
    {
        var before = fx.B.Net.Udp;
        fx.A.Thread.Invoke(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0));
            var to = new IPEndPoint(IPAddress.Parse("192.0.2.2"), 8285);
            var packet = new byte[1473]; // one byte over the overlay MTU (1500 − 28)
            packet[0] = 0x45; packet[8] = 64; packet[9] = 17;
            new byte[] { 10, 0, 1, 0, 10, 0, 2, 0 }.CopyTo(packet, 12);
            s.SendTo(packet, to);
            var big = new byte[5000]; // fragmented on the wire; larger than the receive slot
            packet.AsSpan(0, 20).CopyTo(big);
            s.SendTo(big, to);
            s.SendTo(new byte[10], to);
        });
        Eventually.True(() => fx.B.Net.Udp.DroppedTooLong - before.DroppedTooLong >= 2
                     && fx.B.Net.Udp.DroppedTooShort - before.DroppedTooShort >= 1, "drop counters");
        var after = fx.B.Net.Udp;
        Assert.Equal(2, after.DroppedTooLong - before.DroppedTooLong);
        Assert.Equal(1, after.DroppedTooShort - before.DroppedTooShort);
        Assert.Equal(3, after.UdpRxPackets - before.UdpRxPackets);
        Assert.Equal(1473 + 5000 + 10, after.UdpRxBytes - before.UdpRxBytes); // the full sizes were seen
    }

    [Fact]
    public void Removed_route_makes_that_peer_unreachable_while_the_other_still_works()
    {
        Assert.Equal(0, Ping(fx.A.Ns, "10.0.3.0", 1).Code);
        fx.A.Net.HandleEvents([new LeaseEvent(LeaseEventType.Removed, fx.C.Lease)]);
        try
        {
            var noRoute = fx.A.Net.Udp.DroppedNoRoute;
            Assert.NotEqual(0, Ping(fx.A.Ns, "10.0.3.0", 2).Code);
            Assert.True(fx.A.Net.Udp.DroppedNoRoute >= noRoute + 2);
            Assert.Equal(0, Ping(fx.A.Ns, "10.0.2.0", 2).Code);
            Assert.DoesNotContain(fx.A.Net.GetStatistics().Peers, p => p.Subnet == "10.0.3.0/24");
        }
        finally
        {
            fx.A.Net.HandleEvents([new LeaseEvent(LeaseEventType.Added, fx.C.Lease)]);
        }
        Assert.Equal(0, Ping(fx.A.Ns, "10.0.3.0", 1).Code);
    }

    [Fact]
    public void Forwarding_loops_allocate_nothing_per_packet()
    {
        Assert.Equal(0, Ping(fx.A.Ns, "10.0.2.0", 5).Code); // warm up: JIT, first batches
        var fa = fx.A.Net.Forwarder;
        var fb = fx.B.Net.Forwarder;
        long a = fa.LoopThreadAllocatedBytes, b = fb.LoopThreadAllocatedBytes;
        var sent = fx.A.Net.Udp.TunRxPackets;
        var r = fx.A.Ns.Exec(30_000, "ping", "-n", "-q", "-c", "500", "-i", "0.002", "-W", "2", "10.0.2.0");
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.True(fx.A.Net.Udp.TunRxPackets - sent >= 500);
        Assert.Equal(a, fa.LoopThreadAllocatedBytes);
        Assert.Equal(b, fb.LoopThreadAllocatedBytes);
    }

    [Fact]
    public void Tcp_stream_through_the_overlay_works_at_the_overlay_mtu()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("FLANNELPS_DATAPATH_IPERF_SECONDS"), out var s) ? Math.Clamp(s, 1, 10) : 1;
        using var server = new Capture.Background(fx.B.Ns.Name, ["iperf3", "-s", "-1", "-B", "10.0.2.0", "-p", "5299"]);
        Eventually.True(() => fx.B.Ns.Exec("ss", "-ltn").Out.Contains("10.0.2.0:5299"), "iperf3 server to listen");
        var r = fx.A.Ns.Exec((seconds + 15) * 1000, "iperf3", "-c", "10.0.2.0", "-p", "5299", "-t", seconds.ToString(), "-J");
        output.WriteLine(r.Out);
        using var doc = JsonDocument.Parse(r.Out);
        // iperf3 3.12 can exit 0 with {"error": …} in its JSON: check for it explicitly.
        Assert.False(doc.RootElement.TryGetProperty("error", out var err), err.ToString());
        var bps = doc.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
        output.WriteLine($"iperf3 TCP A→B through flannel0/udp for {seconds} s: {bps / 1e6:F1} Mbit/s");
        Console.WriteLine($"[fpdp-measure] iperf3 TCP A→B through flannel0/udp for {seconds} s: {bps / 1e6:F1} Mbit/s");
        Assert.True(bps > 0);
        var st = fx.A.Net.Udp;
        Assert.Equal(0, st.SendErrors);
    }
}
