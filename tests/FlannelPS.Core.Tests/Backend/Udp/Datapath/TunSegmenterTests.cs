// Cutting offloaded TUN reads into wire packets, against hand-built super-packets.
using System.Buffers.Binary;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Interop;
using static FlannelPS.Core.Tests.Backend.Udp.Datapath.HandBuiltPackets;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed class TunSegmenterTests
{
    private static readonly byte[] IpOptions = [1, 1, 1, 0];                          // NOP NOP NOP EOL
    private static readonly byte[] TcpTimestamp = [1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7]; // NOP NOP TS

    /// <summary>A TSO super-packet as the kernel hands it out: one header, the checksum field holding the pseudo-header sum.</summary>
    private static byte[] TsoRead(byte[] payload, byte flags, ushort gsoSize, byte[]? ipOptions = null, byte[]? tcpOptions = null)
    {
        var p = TcpPacket(payload, seq: 0xfffff000, flags, ipOptions, tcpOptions, id: 0xfffe);
        int ih = (p[0] & 15) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(ih + 16), PseudoSum(p));
        int headers = ih + (p[ih + 12] >> 4) * 4;
        return WithHeader(new VirtioNetHdr
        {
            Flags = VirtioNetHdr.FlagNeedsCsum, GsoType = VirtioNetHdr.GsoTcpV4, HdrLen = (ushort)headers,
            GsoSize = gsoSize, CsumStart = (ushort)ih, CsumOffset = 16,
        }, p);
    }

    private static List<byte[]> CutAll(byte[] read, int mtu, int capacity = 64)
    {
        var batch = new PacketBatch(capacity, mtu + 64);
        var packets = new List<byte[]>();
        int slot = 0, segment = 0;
        while (true)
        {
            var r = TunSegmenter.Cut(read, batch, ref slot, mtu, ref segment);
            Assert.NotEqual(TunSegmenter.Result.Invalid, r);
            for (int i = 0; i < slot; i++) packets.Add(batch.Packet(i).ToArray());
            slot = 0;
            if (r == TunSegmenter.Result.Done) return packets;
        }
    }

    [Fact]
    public void A_tcp_super_packet_becomes_complete_segments_with_options_checksums_ids_and_flags()
    {
        var payload = Payload(5000, 1);
        var read = TsoRead(payload, Ack | Psh | Fin | Cwr, gsoSize: 1400, IpOptions, TcpTimestamp);
        var segs = CutAll(read, mtu: 1472);

        Assert.Equal([1400, 1400, 1400, 800], segs.Select(s => s.Length - 24 - 32));
        var joined = new List<byte>();
        for (int k = 0; k < segs.Count; k++)
        {
            var s = segs[k];
            Assert.True(s.Length <= 1472);
            Assert.Equal(0x46, s[0]);                                          // IHL 6: the options are repeated
            Assert.Equal(IpOptions, s[20..24]);
            Assert.Equal(s.Length, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(2)));
            Assert.Equal((ushort)(0xfffe + k), BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(4))); // ids advance (and wrap)
            Assert.Equal(0x40, s[6]);                                          // DF kept
            Assert.Equal(64, s[8]);                                            // TTL: the lane decrements it later
            Assert.Equal(0, Checksum.Of(s.AsSpan(0, 24)));
            Assert.Equal(0, L4Checksum(s));
            var t = s.AsSpan(24);
            Assert.Equal(0xfffff000u + (uint)(1400 * k), BinaryPrimitives.ReadUInt32BigEndian(t[4..])); // seq advances (and wraps)
            Assert.Equal(777u, BinaryPrimitives.ReadUInt32BigEndian(t[8..]));
            Assert.Equal(TcpTimestamp, t[20..32].ToArray());
            byte expected = (byte)(Ack | (k == 3 ? Psh | Fin : 0) | (k == 0 ? Cwr : 0));
            Assert.Equal(expected, t[13]);
            joined.AddRange(t[32..].ToArray());
        }
        Assert.Equal(payload, joined.ToArray());
    }

    [Fact]
    public void Segments_never_exceed_the_mtu_even_when_gso_size_would()
    {
        var read = TsoRead(Payload(4000, 2), Ack, gsoSize: 1448);
        var segs = CutAll(read, mtu: 1000);
        Assert.All(segs, s => Assert.True(s.Length <= 1000, $"{s.Length} > 1000"));
        Assert.Equal(4000, segs.Sum(s => s.Length - 40));
        Assert.All(segs, s => Assert.Equal(0, L4Checksum(s)));
    }

    [Fact]
    public void A_full_batch_stops_the_cut_and_it_resumes_where_it_stopped()
    {
        var payload = Payload(10_000, 3);
        var whole = CutAll(TsoRead(payload, Ack | Psh, 1000), 1472);
        var inTwos = CutAll(TsoRead(payload, Ack | Psh, 1000), 1472, capacity: 3);
        Assert.Equal(10, whole.Count);
        Assert.Equal(whole.Count, inTwos.Count);
        for (int i = 0; i < whole.Count; i++) Assert.Equal(whole[i], inTwos[i]);
    }

    [Fact]
    public void A_udp_super_packet_whose_datagrams_exceed_the_mtu_is_refused_not_cut_into_other_datagrams()
    {
        var p = UdpPacket(Payload(2944, 5));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), PseudoSum(p));
        var read = WithHeader(new VirtioNetHdr
        {
            Flags = VirtioNetHdr.FlagNeedsCsum, GsoType = VirtioNetHdr.GsoUdpL4, HdrLen = 28, GsoSize = 1472, CsumStart = 20, CsumOffset = 6,
        }, p);
        var batch = new PacketBatch(8, 1472 + 64);
        int slot = 0, segment = 0;
        // Two application datagrams of 1472 bytes: cut at the MTU they would arrive as 1444 + 1444 + 56.
        Assert.Equal(TunSegmenter.Result.Invalid, TunSegmenter.Cut(read, batch, ref slot, 1472, ref segment));
        Assert.Equal(0, slot);
    }

    [Fact]
    public void A_udp_super_packet_becomes_datagrams_each_with_its_own_header_and_checksum()
    {
        var payload = Payload(2500, 4);
        var p = UdpPacket(payload);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), PseudoSum(p));
        var read = WithHeader(new VirtioNetHdr
        {
            Flags = VirtioNetHdr.FlagNeedsCsum, GsoType = VirtioNetHdr.GsoUdpL4, HdrLen = 28, GsoSize = 1000, CsumStart = 20, CsumOffset = 6,
        }, p);
        var segs = CutAll(read, 1472);
        Assert.Equal([1028, 1028, 528], segs.Select(s => s.Length));
        var joined = new List<byte>();
        foreach (var s in segs)
        {
            Assert.Equal(0, Checksum.Of(s.AsSpan(0, 20)));
            Assert.Equal(s.Length - 20, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(24)));
            Assert.Equal(0, L4Checksum(s));
            joined.AddRange(s[28..]);
        }
        Assert.Equal(payload, joined.ToArray());
    }

    [Fact]
    public void A_single_packet_with_a_partial_checksum_gets_it_finished()
    {
        var p = UdpPacket(Payload(333, 5));
        var good = p.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), PseudoSum(p));
        var read = WithHeader(new VirtioNetHdr { Flags = VirtioNetHdr.FlagNeedsCsum, CsumStart = 20, CsumOffset = 6 }, p);
        var segs = CutAll(read, 1472);
        Assert.Single(segs);
        Assert.Equal(good, segs[0]);

        var plain = TcpPacket(Payload(100, 6), 1, Ack);
        Assert.Equal(plain, CutAll(WithHeader(default, plain), 1472).Single()); // no offload: copied as it is
    }

    [Fact]
    public void A_gso_type_that_does_not_match_the_packet_is_invalid()
    {
        var p = UdpPacket(Payload(3000, 7));
        var read = WithHeader(new VirtioNetHdr { GsoType = VirtioNetHdr.GsoTcpV4, GsoSize = 1000 }, p);
        var batch = new PacketBatch(8, 1536);
        int slot = 0, segment = 0;
        Assert.Equal(TunSegmenter.Result.Invalid, TunSegmenter.Cut(read, batch, ref slot, 1472, ref segment));
        read = WithHeader(new VirtioNetHdr { GsoType = VirtioNetHdr.GsoTcpV6, GsoSize = 1000 }, TcpPacket(Payload(3000, 8), 1, Ack));
        Assert.Equal(TunSegmenter.Result.Invalid, TunSegmenter.Cut(read, batch, ref slot, 1472, ref segment));
        Assert.Equal(0, slot);
    }
}
