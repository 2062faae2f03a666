// Joining received TCP segments into super-packets for flannel0, against hand-built segments.
using System.Buffers.Binary;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Interop;
using static FlannelPS.Core.Tests.Backend.Udp.Datapath.HandBuiltPackets;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed class TcpCoalescerTests
{
    private sealed class Recorder : ITunSink
    {
        public readonly List<(VirtioNetHdr Header, byte[] Packet)> Written = [];
        public bool Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet)
        {
            Assert.Equal(VirtioNetHdr.Size, virtioHeader.Length);
            Written.Add((VirtioNetHdr.Read(virtioHeader), packet.ToArray()));
            return true;
        }
    }

    private static readonly byte[] TcpTimestamp = [1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7];

    private static List<byte[]> Segments(byte[] payload, int size, uint seq0 = 1000, byte lastFlags = Ack | Psh, ushort sport = 40000)
    {
        var list = new List<byte[]>();
        for (int off = 0; off < payload.Length; off += size)
        {
            bool last = off + size >= payload.Length;
            list.Add(TcpPacket(payload.AsSpan(off, Math.Min(size, payload.Length - off)), seq0 + (uint)off, last ? lastFlags : Ack,
                tcpOptions: TcpTimestamp, id: (ushort)(off / size), sport: sport));
        }
        return list;
    }

    private static (Recorder, TcpCoalescer) New()
    {
        var r = new Recorder();
        return (r, new TcpCoalescer(r));
    }

    private static void AssertPlain(VirtioNetHdr h)
    {
        Assert.Equal(0, h.Flags);
        Assert.Equal(VirtioNetHdr.GsoNone, h.GsoType);
    }

    [Fact]
    public void In_order_segments_of_one_flow_become_one_super_packet_with_its_virtio_header()
    {
        var payload = Payload(5 * 1200 - 300, 11);
        var (rec, c) = New();
        foreach (var s in Segments(payload, 1200)) c.Add(s);
        c.Flush();

        var (h, p) = Assert.Single(rec.Written);
        Assert.Equal(VirtioNetHdr.FlagNeedsCsum, h.Flags);
        Assert.Equal(VirtioNetHdr.GsoTcpV4, h.GsoType);
        Assert.Equal(20 + 32, h.HdrLen);
        Assert.Equal(1200, h.GsoSize);
        Assert.Equal(20, h.CsumStart);
        Assert.Equal(16, h.CsumOffset);
        Assert.Equal(52 + payload.Length, p.Length);
        Assert.Equal(p.Length, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2)));
        Assert.Equal(0, Checksum.Of(p.AsSpan(0, 20)));
        Assert.Equal(PseudoSum(p), BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(36))); // what NEEDS_CSUM asks for
        Assert.Equal(1000u, BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(24)));
        Assert.Equal(Ack | Psh, p[33]);                                  // the last segment's PSH
        Assert.Equal(TcpTimestamp, p[40..52]);
        Assert.Equal(payload, p[52..]);
        Assert.Equal(1, c.SuperPackets);
        Assert.Equal(5, c.SuperPacketSegments);
        // Finishing the checksum the way the kernel would gives a valid segment.
        var finished = p.ToArray();
        TunSegmenter.FinishChecksum(finished, 20, 16);
        Assert.Equal(0, L4Checksum(finished));
    }

    [Fact]
    public void A_gap_in_sequence_ends_the_run_and_the_segment_starts_another()
    {
        var segs = Segments(Payload(6000, 12), 1000);
        var (rec, c) = New();
        c.Add(segs[0]); c.Add(segs[1]); c.Add(segs[3]); c.Add(segs[4]); c.Add(segs[2]); c.Add(segs[5]);
        c.Flush();
        Assert.Equal(4, rec.Written.Count);
        Assert.Equal(2, rec.Written[0].Header.GsoType == VirtioNetHdr.GsoTcpV4 ? (rec.Written[0].Packet.Length - 52) / 1000 : 0);
        Assert.Equal(VirtioNetHdr.GsoTcpV4, rec.Written[1].Header.GsoType);   // 3+4
        AssertPlain(rec.Written[2].Header);                                   // 2 alone (then 5 cannot follow it)
        Assert.Equal(segs[2], rec.Written[2].Packet);
        Assert.Equal(segs[5], rec.Written[3].Packet);                         // 5 alone, with PSH: as it came
        AssertPlain(rec.Written[3].Header);
    }

    [Fact]
    public void Interleaved_flows_are_joined_separately_and_each_stays_in_order()
    {
        var a = Segments(Payload(4000, 13), 1000, sport: 1);
        var b = Segments(Payload(4000, 14), 1000, sport: 2);
        var (rec, c) = New();
        for (int i = 0; i < 4; i++) { c.Add(a[i]); c.Add(b[i]); }
        c.Flush();
        Assert.Equal(2, rec.Written.Count);
        Assert.All(rec.Written, w => Assert.Equal(VirtioNetHdr.GsoTcpV4, w.Header.GsoType));
        Assert.Equal([1, 2], rec.Written.Select(w => (int)BinaryPrimitives.ReadUInt16BigEndian(w.Packet.AsSpan(20))).Order());
    }

    [Fact]
    public void Udp_icmp_fragments_ip_options_and_control_segments_go_through_as_they_came_after_their_flows_run()
    {
        var segs = Segments(Payload(3000, 15), 1000, lastFlags: Ack | Fin);
        var udp = UdpPacket(Payload(100, 16));
        var icmp = UdpPacket(Payload(20, 17)); icmp[9] = 1; FixChecksumsIcmp(icmp);
        var fragment = TcpPacket(Payload(500, 18), 9, Ack, sport: 7); fragment[6] = 0x20; // MF
        var withOptions = TcpPacket(Payload(500, 19), 9, Ack, ipOptions: [1, 1, 1, 0], sport: 8);
        var syn = TcpPacket([], 5, Syn, sport: 9);
        var (rec, c) = New();
        c.Add(segs[0]); c.Add(udp); c.Add(segs[1]); c.Add(icmp); c.Add(fragment); c.Add(withOptions); c.Add(syn);
        c.Add(segs[2]); // FIN: goes out as it came
        c.Flush();
        Assert.Equal(7, rec.Written.Count);
        Assert.Equal(udp, rec.Written[0].Packet);
        Assert.Equal(icmp, rec.Written[1].Packet);
        // A fragment may belong to any flow between its addresses: their runs go out before it.
        Assert.Equal(VirtioNetHdr.GsoTcpV4, rec.Written[2].Header.GsoType);
        Assert.Equal(2052, rec.Written[2].Packet.Length);
        Assert.Equal(fragment, rec.Written[3].Packet);
        Assert.Equal(withOptions, rec.Written[4].Packet);
        Assert.Equal(syn, rec.Written[5].Packet);
        Assert.Equal(segs[2], rec.Written[6].Packet);
        foreach (var w in rec.Written.Where(w => w.Header.GsoType == VirtioNetHdr.GsoNone)) AssertPlain(w.Header);
    }

    [Fact]
    public void The_fragments_of_a_segment_follow_the_run_of_their_own_flow()
    {
        var segs = Segments(Payload(2000, 20), 1000, lastFlags: Ack);
        // The next segment of the same flow, cut in two by a router (DF clear): ports only in the first piece.
        var whole = TcpPacket(Payload(1000, 21), 3000, Ack, tcpOptions: TcpTimestamp);
        var first = whole[..(20 + 32 + 488)]; first[6] = 0x20; // MF, offset 0
        var second = whole[..20].Concat(whole[(20 + 32 + 488)..]).ToArray(); second[6] = 0x00; second[7] = (32 + 488) / 8; // offset 65
        var (rec, c) = New();
        c.Add(segs[0]); c.Add(segs[1]); c.Add(first); c.Add(second);
        c.Flush();
        Assert.Equal(3, rec.Written.Count);
        Assert.Equal(VirtioNetHdr.GsoTcpV4, rec.Written[0].Header.GsoType); // bytes 1000..2999 first
        Assert.Equal(first, rec.Written[1].Packet);
        Assert.Equal(second, rec.Written[2].Packet);
    }

    [Theory]
    [InlineData(60)] // a payload byte: the TCP checksum fails
    [InlineData(5)]  // the IP id: the IP header checksum fails (the TCP one does not cover it)
    public void A_segment_with_a_bad_checksum_joins_nothing_and_goes_out_as_it_came_for_the_kernel_to_drop(int corrupted)
    {
        var segs = Segments(Payload(4000, 22), 1000, lastFlags: Ack);
        segs[1][corrupted] ^= 0x04;
        var (rec, c) = New();
        foreach (var seg in segs) c.Add(seg);
        c.Flush();
        // Segment 0 alone (its run ended at the bad one), the bad one as it came, then 2+3 joined.
        Assert.Equal(3, rec.Written.Count);
        Assert.Equal(segs[0], rec.Written[0].Packet);
        Assert.Equal(segs[1], rec.Written[1].Packet);
        AssertPlain(rec.Written[1].Header);
        Assert.Equal(VirtioNetHdr.GsoTcpV4, rec.Written[2].Header.GsoType);
        Assert.Equal(52 + 2000, rec.Written[2].Packet.Length);
    }

    [Fact]
    public void A_lone_segment_is_written_unchanged_and_a_shorter_segment_closes_the_run()
    {
        var (rec, c) = New();
        var one = TcpPacket(Payload(1000, 20), 1, Ack);
        c.Add(one);
        c.Flush();
        Assert.Equal(one, Assert.Single(rec.Written).Packet);
        AssertPlain(rec.Written[0].Header);

        rec.Written.Clear();
        var a = TcpPacket(Payload(1000, 21), 100, Ack);
        var b = TcpPacket(Payload(600, 22), 1100, Ack);   // shorter: the run ends with it
        var d = TcpPacket(Payload(1000, 23), 1700, Ack);  // in order, but after a short one: a new run
        c.Add(a); c.Add(b); c.Add(d);
        c.Flush();
        Assert.Equal(2, rec.Written.Count);
        Assert.Equal(40 + 1600, rec.Written[0].Packet.Length);
        Assert.Equal(d, rec.Written[1].Packet);
    }

    [Fact]
    public void Different_ack_window_ttl_or_options_do_not_join()
    {
        var (rec, c) = New();
        c.Add(TcpPacket(Payload(1000, 30), 0, Ack));
        c.Add(TcpPacket(Payload(1000, 31), 1000, Ack, ack: 778));
        c.Add(TcpPacket(Payload(1000, 32), 2000, Ack, ack: 778, window: 9));
        c.Add(TcpPacket(Payload(1000, 33), 3000, Ack, ack: 778, window: 9, ttl: 3));
        c.Add(TcpPacket(Payload(1000, 34), 4000, Ack, ack: 778, window: 9, ttl: 3, tcpOptions: TcpTimestamp));
        c.Flush();
        Assert.Equal(5, rec.Written.Count);
        Assert.All(rec.Written, w => AssertPlain(w.Header));
    }

    private static void FixChecksumsIcmp(byte[] p)
    {
        p[10] = p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), (ushort)Checksum.Of(p.AsSpan(0, 20)));
    }
}
