// The offloaded datapath on the wire: TCP through TUN super-packets and UDP GRO arrives intact both
// ways, and what crosses the underlay is still flannel's format, one complete inner IPv4 packet of
// at most the MTU per datagram with valid checksums; malformed datagrams never reach flannel0.
// Part of the OverlayFixture collection (namespace names are reused).
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Tests.Fakes;
using FlannelPS.Core.Tests.Interop;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed partial class UdpOverlayTests
{
    [Fact]
    public void Malformed_datagrams_are_dropped_before_flannel0_and_counted_by_reason()
    {
        var before = fx.B.Net.Udp;
        // The first packet flannel0 on B sees to port 7777 must be the valid one sent last.
        using var cap = new Capture(fx.B.Ns.Name, "flannel0", "udp and dst port 7777", 1);
        byte[] Inner(int length, byte versionIhl, int totalLength)
        {
            var p = new byte[length];
            p[0] = versionIhl;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)totalLength);
            p[8] = 64; p[9] = 17;
            new byte[] { 10, 0, 1, 0, 10, 0, 2, 0 }.CopyTo(p, 12);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), 5555);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), 7777);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(length - 20)); // checksum 0: none
            p[10] = p[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), (ushort)Checksum.Of(p.AsSpan(0, 20)));
            return p;
        }
        var valid = Inner(60, 0x45, 60);
        fx.A.Thread.Invoke(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0));
            var to = new IPEndPoint(IPAddress.Parse("192.0.2.2"), 8285);
            s.SendTo(Inner(60, 0x65, 60), to);    // not IPv4
            s.SendTo(Inner(60, 0x44, 60), to);    // IHL 4
            s.SendTo(Inner(60, 0x4f, 60), to);    // IHL 15: a 60-byte header, no room for anything
            s.SendTo(Inner(60, 0x45, 70), to);    // total length beyond the datagram
            s.SendTo(Inner(60, 0x45, 50), to);    // total length short of it (trailing bytes)
            Thread.Sleep(50);
            s.SendTo(valid, to);
        });
        Eventually.True(() => fx.B.Net.Udp.UdpRxPackets - before.UdpRxPackets >= 6, "six datagrams received");
        var after = fx.B.Net.Udp;
        Assert.Equal(1, after.DroppedNotIpv4 - before.DroppedNotIpv4);
        Assert.Equal(1, after.DroppedBadHeaderLength - before.DroppedBadHeaderLength);
        Assert.Equal(2, after.DroppedLengthMismatch - before.DroppedLengthMismatch);
        var (link, packets) = cap.Finish();
        var first = Pcap.Ipv4Of(link, Assert.Single(packets))!;
        Assert.Equal(60, first.Length);
        Assert.Equal(63, first[8]); // the valid one, TTL decremented; everything before it was dropped
    }

    [Fact]
    public void Offloaded_tcp_moves_intact_both_ways_and_the_underlay_carries_one_inner_packet_per_datagram()
    {
        var a0 = fx.A.Net.Udp;
        var b0 = fx.B.Net.Udp;
        Assert.Contains("tso4", a0.Offloads);
        Assert.Contains("gro on", a0.Offloads);
        output.WriteLine($"offloads: {a0.Offloads}");
        // A's underlay port cuts GSO sends in software (gso_max_segs 1), so the capture sees the
        // datagrams a NIC would put on the wire; B's sends cross whole, so A receives them with GRO.
        fx.A.Ns.Ip("link", "set", "eth0", "gso_max_segs", "1").Ok("gso_max_segs");
        try
        {
            using var cap = new Capture(fx.Switch.Name, "pb", "udp and port 8285 and src host 192.0.2.1", 2000);
            TransferIntact(fx.A, fx.B, "10.0.2.0", 5311, 4 << 20);
            var (link, packets) = cap.Finish(15_000);
            Assert.True(packets.Count >= 1000, $"only {packets.Count} datagrams captured");
            int full = 0;
            foreach (var frame in packets)
            {
                var outer = Pcap.Ipv4Of(link, frame)!;
                Assert.True(outer.Length <= 1500, $"an underlay packet of {outer.Length} bytes");
                int oh = (outer[0] & 15) * 4;
                Assert.Equal(outer.Length, BinaryPrimitives.ReadUInt16BigEndian(outer.AsSpan(2)));
                var inner = outer[(oh + 8)..];
                Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(outer.AsSpan(oh + 4)) - 8, inner.Length);
                Assert.True(inner.Length <= fx.A.Net.Mtu, $"an inner packet of {inner.Length} bytes");
                Assert.Equal(4, inner[0] >> 4);
                Assert.Equal(inner.Length, BinaryPrimitives.ReadUInt16BigEndian(inner.AsSpan(2))); // exactly one packet
                Assert.Equal(0, Checksum.Of(inner.AsSpan(0, (inner[0] & 15) * 4)));
                Assert.Equal(6, inner[9]);
                Assert.Equal(0, HandBuiltPackets.L4Checksum(inner));
                if (inner.Length == fx.A.Net.Mtu) full++;
            }
            Assert.True(full > packets.Count / 2, $"only {full} of {packets.Count} inner packets were full-size: TSO was not exercised");
        }
        finally
        {
            fx.A.Ns.Ip("link", "set", "eth0", "gso_max_segs", "65535").Ok("gso_max_segs back");
        }
        TransferIntact(fx.B, fx.A, "10.0.1.0", 5312, 8 << 20);
        var a1 = fx.A.Net.Udp;
        var b1 = fx.B.Net.Udp;
        output.WriteLine($"A: cut {a1.SuperPacketsSegmented - a0.SuperPacketsSegmented} super-packets into {a1.SegmentsSent - a0.SegmentsSent}; " +
                         $"joined {a1.SegmentsCoalesced - a0.SegmentsCoalesced} segments into {a1.SuperPacketsWritten - a0.SuperPacketsWritten}");
        output.WriteLine($"B: cut {b1.SuperPacketsSegmented - b0.SuperPacketsSegmented} super-packets into {b1.SegmentsSent - b0.SegmentsSent}; " +
                         $"joined {b1.SegmentsCoalesced - b0.SegmentsCoalesced} segments into {b1.SuperPacketsWritten - b0.SuperPacketsWritten}");
        Assert.True(a1.SuperPacketsSegmented > a0.SuperPacketsSegmented, "A read no TSO super-packet from flannel0");
        Assert.True(b1.SuperPacketsSegmented > b0.SuperPacketsSegmented, "B read no TSO super-packet from flannel0");
        Assert.True(a1.SuperPacketsWritten > a0.SuperPacketsWritten, "A wrote no coalesced super-packet into flannel0");
        Assert.Equal(a0.SendErrors, a1.SendErrors);
        Assert.Equal(0, a1.DroppedBadOffload + b1.DroppedBadOffload);

        // Both directions have run every path once: from now on the loops allocate nothing.
        long allocA = fx.A.Net.Forwarder.LoopThreadAllocatedBytes, allocB = fx.B.Net.Forwarder.LoopThreadAllocatedBytes;
        TransferIntact(fx.A, fx.B, "10.0.2.0", 5313, 4 << 20);
        TransferIntact(fx.B, fx.A, "10.0.1.0", 5314, 4 << 20);
        Assert.Equal(allocA, fx.A.Net.Forwarder.LoopThreadAllocatedBytes);
        Assert.Equal(allocB, fx.B.Net.Forwarder.LoopThreadAllocatedBytes);
    }

    [Fact]
    public void A_udp_gso_send_inside_the_overlay_is_cut_into_its_datagrams_and_each_arrives_intact()
    {
        Assert.Contains("uso4", fx.A.Net.Udp.Offloads);
        var before = fx.A.Net.Udp;
        using var receiver = fx.B.Thread.Invoke(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 3000 };
            s.Bind(new IPEndPoint(IPAddress.Parse("10.0.2.0"), 5401));
            return s;
        });
        const int segment = 1000, count = 12;
        var payload = new byte[segment * count - 300]; // the last datagram shorter
        for (int i = 0; i < payload.Length; i++) payload[i] = (byte)(i / segment + 1);
        fx.A.Thread.Invoke(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.SetRawSocketOption(17, 103, BitConverter.GetBytes(segment)); // UDP_SEGMENT: one send, many datagrams
            s.SendTo(payload, new IPEndPoint(IPAddress.Parse("10.0.2.0"), 5401));
        });
        var buf = new byte[65536];
        for (int k = 0; k < count; k++)
        {
            int n = receiver.Receive(buf);
            Assert.Equal(k == count - 1 ? segment - 300 : segment, n);
            Assert.True(buf.AsSpan(0, n).IndexOfAnyExcept((byte)(k + 1)) < 0, $"datagram {k} is corrupt");
        }
        var after = fx.A.Net.Udp;
        Assert.True(after.SuperPacketsSegmented > before.SuperPacketsSegmented, "flannel0 handed out no USO super-packet: the test did not exercise USO");
    }

    /// <summary>Sends <paramref name="total"/> random bytes over TCP from one host's overlay address to another's and checks the sha256.</summary>
    [Fact]
    public void A_super_packets_full_segments_leave_in_one_gso_send_as_one_run_of_memory()
    {
        // Cut segments of exactly the MTU lie back to back in the batch, so a GSO send hands the
        // kernel one iovec for the run instead of one per 1.4 KB datagram (one copy, not forty).
        var f = fx.A.Net.Forwarder;
        var u0 = fx.A.Net.Udp;
        long messages0 = f.GsoMessages, iovecs0 = f.GsoIovecs;
        TransferIntact(fx.A, fx.B, "10.0.2.0", 5317, 4 << 20);
        var u1 = fx.A.Net.Udp;
        long messages = f.GsoMessages - messages0, iovecs = f.GsoIovecs - iovecs0, segments = u1.SegmentsSent - u0.SegmentsSent;
        output.WriteLine($"{segments} segments cut, {messages} GSO sends, {iovecs} iovecs");
        Assert.True(messages > 0 && segments >= 4 * messages, $"{messages} GSO sends for {segments} segments: TSO and GSO were not exercised");
        Assert.True(iovecs * 4 <= segments, $"{iovecs} iovecs for {segments} segments: the runs were not sent as one region");
    }

    [Fact]
    public void Peer_counters_account_for_every_segment_of_an_offloaded_transfer()
    {
        // The per-peer counters are added once per run of packets to one peer (a super-packet's
        // segments, a GRO receive's datagrams): over a bulk transfer both ways they must still sum
        // to exactly what the lanes read from flannel0 and from the socket, packet for packet and
        // byte for byte, less what was dropped.
        var a0 = fx.A.Net.GetStatistics();
        TransferIntact(fx.A, fx.B, "10.0.2.0", 5315, 4 << 20);
        TransferIntact(fx.B, fx.A, "10.0.1.0", 5316, 4 << 20);
        var a1 = fx.A.Net.GetStatistics();
        var u0 = (UdpStatistics)a0.Detail!;
        var u1 = (UdpStatistics)a1.Detail!;
        Assert.True(u1.SuperPacketsSegmented > u0.SuperPacketsSegmented, "no TSO super-packet was read: the runs were not exercised");
        Assert.True(u1.SegmentsCoalesced > u0.SegmentsCoalesced, "no GRO receive was joined: the runs were not exercised");
        long Delta(Func<PeerStatistics, long> f) => a1.Peers.Sum(f) - a0.Peers.Sum(f);
        long tunDrops = u1.DroppedNoRoute - u0.DroppedNoRoute + u1.DroppedNotIpv4 - u0.DroppedNotIpv4;
        long rxDrops = u1.DroppedBadHeaderLength - u0.DroppedBadHeaderLength + u1.DroppedLengthMismatch - u0.DroppedLengthMismatch;
        Assert.Equal(0, u1.DroppedTooShort - u0.DroppedTooShort + u1.DroppedTooLong - u0.DroppedTooLong + u1.DroppedTtl - u0.DroppedTtl);
        Assert.Equal(u1.TunRxPackets - u0.TunRxPackets - tunDrops, Delta(p => p.TxPackets));
        Assert.Equal(u1.UdpRxPackets - u0.UdpRxPackets - rxDrops, Delta(p => p.RxPackets));
        if (tunDrops == 0) Assert.Equal(u1.TunRxBytes - u0.TunRxBytes, Delta(p => p.TxBytes));
        if (rxDrops == 0) Assert.Equal(u1.UdpRxBytes - u0.UdpRxBytes, Delta(p => p.RxBytes));
        Assert.True(Delta(p => p.TxBytes) > 4 << 20 && Delta(p => p.RxBytes) > 4 << 20, "the transfers did not cross the peers' counters");
    }
}
