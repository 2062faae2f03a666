using System.Buffers.Binary;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed class PacketMathTests
{
    private static byte[] Header(byte ttl, byte proto, string src, string dst, int payload = 8, ushort fragment = 0, int ihlWords = 5)
    {
        var p = new byte[ihlWords * 4 + payload];
        p[0] = (byte)(0x40 | ihlWords);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), 0x1234);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), fragment);
        p[8] = ttl; p[9] = proto;
        Ip4.Parse(src).WriteBytes(p.AsSpan(12));
        Ip4.Parse(dst).WriteBytes(p.AsSpan(16));
        for (int i = ihlWords * 4; i < p.Length; i++) p[i] = (byte)(i * 7);
        Ipv4Packet.WriteHeaderChecksum(p);
        return p;
    }

    [Fact]
    public void Header_fields_are_read_from_the_span()
    {
        var p = Header(64, 17, "10.0.1.5", "10.0.2.9", fragment: 0x2000 | 3);
        Assert.Equal(4, Ipv4Packet.Version(p));
        Assert.Equal(20, Ipv4Packet.HeaderLength(p));
        Assert.Equal(28, Ipv4Packet.TotalLength(p));
        Assert.Equal(64, Ipv4Packet.Ttl(p));
        Assert.Equal(17, Ipv4Packet.Protocol(p));
        Assert.Equal(3, Ipv4Packet.FragmentOffset(p));
        Assert.Equal(Ip4.Parse("10.0.1.5"), Ipv4Packet.Source(p));
        Assert.Equal(Ip4.Parse("10.0.2.9"), Ipv4Packet.Destination(p));
        Assert.Equal(0, Checksum.Of(p.AsSpan(0, 20)));
    }

    [Fact]
    public void Checksum_matches_a_word_by_word_sum_at_every_length_and_alignment()
    {
        // Lengths around the vector blocks (64 bytes) and the 8-byte words, odd tails, every start
        // offset within a word; then packet sizes; all against the tests' own 16-bit arithmetic.
        var data = new byte[70_000 + 8];
        new Random(12).NextBytes(data);
        var lengths = Enumerable.Range(0, 200).Concat([255, 256, 257, 1472, 1473, 9000, 65_535, 65_536, 70_000]);
        foreach (int length in lengths)
            for (int offset = 0; offset < 8; offset++)
            {
                var span = data.AsSpan(offset, length);
                Assert.True(Checksum.Of(span) == InternetChecksum.Compute(span), $"length {length}, offset {offset}");
            }
    }

    [Theory]
    [InlineData(0xff, 65_535)]
    [InlineData(0xff, 3 * 1024 * 1024 + 5)] // every lane near its largest per-block gain, many blocks
    [InlineData(0x00, 4096)]
    [InlineData(0x80, 4097)]
    public void Checksum_of_uniform_bytes_folds_every_carry(byte fill, int length)
    {
        var data = new byte[length];
        Array.Fill(data, fill);
        Assert.Equal(Checksum.Of(data), InternetChecksum.Compute(data));
    }

    [Fact]
    public void Ttl_decrement_patches_the_checksum_exactly_like_a_full_recompute()
    {
        var rng = new Random(1624);
        for (int n = 0; n < 20_000; n++)
        {
            var p = new byte[20];
            rng.NextBytes(p);
            p[0] = 0x45;
            p[8] = (byte)rng.Next(2, 256);
            Ipv4Packet.WriteHeaderChecksum(p);
            var ttl = p[8];
            Assert.True(Ipv4Packet.TryDecrementTtl(p));
            Assert.Equal(ttl - 1, p[8]);
            Assert.Equal(0, Checksum.Of(p)); // still a valid header
        }
    }

    [Fact]
    public void Ttl_of_one_or_zero_is_not_forwarded_and_the_packet_is_untouched()
    {
        foreach (byte ttl in new byte[] { 0, 1 })
        {
            var p = Header(ttl, 6, "10.0.1.1", "10.0.2.1");
            var copy = p.ToArray();
            Assert.False(Ipv4Packet.TryDecrementTtl(p));
            Assert.Equal(copy, p);
        }
    }

    [Fact]
    public void Icmp_net_unreachable_has_flannels_exact_bytes()
    {
        var offender = Header(63, 17, "10.0.72.5", "10.0.99.1", payload: 40);
        var buf = new byte[IcmpNetUnreachable.MaxLength];
        var len = IcmpNetUnreachable.TryWrite(offender, Ip4.Parse("10.0.72.0"), buf);
        Assert.Equal(20 + 8 + 28, len);
        var icmp = buf.AsSpan(0, len);
        Assert.Equal(0x45, icmp[0]);
        Assert.Equal(len, BinaryPrimitives.ReadUInt16BigEndian(icmp[2..]));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]));
        Assert.Equal(8, icmp[8]);
        Assert.Equal(1, icmp[9]);
        Assert.Equal(new byte[] { 10, 0, 72, 0 }, icmp[12..16].ToArray());
        Assert.Equal(new byte[] { 10, 0, 72, 5 }, icmp[16..20].ToArray());
        Assert.Equal(0, Checksum.Of(icmp[..20]));
        Assert.Equal(3, icmp[20]);
        Assert.Equal(0, icmp[21]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(icmp[24..]));
        Assert.Equal(offender.AsSpan(0, 28).ToArray(), icmp[28..].ToArray());
        Assert.Equal(0, Checksum.Of(icmp[20..]));
    }

    [Fact]
    public void Icmp_reply_quotes_ip_options_too()
    {
        var offender = Header(63, 6, "10.0.72.5", "10.0.99.1", payload: 20, ihlWords: 6);
        var buf = new byte[IcmpNetUnreachable.MaxLength];
        var len = IcmpNetUnreachable.TryWrite(offender, Ip4.Parse("10.0.72.0"), buf);
        Assert.Equal(20 + 8 + 24 + 8, len);
        Assert.Equal(0, Checksum.Of(buf.AsSpan(20, len - 20)));
    }

    [Fact]
    public void No_icmp_for_icmp_offenders_non_first_fragments_or_bad_ihl()
    {
        var buf = new byte[IcmpNetUnreachable.MaxLength];
        var tun = Ip4.Parse("10.0.72.0");
        Assert.Equal(0, IcmpNetUnreachable.TryWrite(Header(63, 1, "10.0.72.5", "10.0.99.1"), tun, buf));
        Assert.Equal(0, IcmpNetUnreachable.TryWrite(Header(63, 17, "10.0.72.5", "10.0.99.1", fragment: 185), tun, buf));
        Assert.NotEqual(0, IcmpNetUnreachable.TryWrite(Header(63, 17, "10.0.72.5", "10.0.99.1", fragment: 0x2000), tun, buf)); // first fragment (MF set)
        var badIhl = Header(63, 17, "10.0.72.5", "10.0.99.1");
        badIhl[0] = 0x44;
        Assert.Equal(0, IcmpNetUnreachable.TryWrite(badIhl, tun, buf));
        var tooLong = Header(63, 17, "10.0.72.5", "10.0.99.1", payload: 4);
        tooLong[0] = 0x46; // 24-byte header + 8 quoted bytes do not fit in 24 bytes
        Assert.Equal(0, IcmpNetUnreachable.TryWrite(tooLong, tun, buf));
    }
}
