// Hand-built IPv4/TCP/UDP packets for the segmentation and coalescing tests, with checks that use
// the tests' own checksum (Checksum.Of), not the product's.
using System.Buffers.Binary;
using FlannelPS.Core.Interop;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

internal static class HandBuiltPackets
{
    public const byte Fin = 0x01, Syn = 0x02, Psh = 0x08, Ack = 0x10, Cwr = 0x80;
    public static readonly byte[] Src = [10, 0, 1, 5], Dst = [10, 0, 2, 9];

    /// <summary>An IPv4/TCP packet with valid checksums; ipOptions and tcpOptions are multiples of 4 bytes.</summary>
    public static byte[] TcpPacket(ReadOnlySpan<byte> payload, uint seq, byte flags, byte[]? ipOptions = null, byte[]? tcpOptions = null,
        ushort id = 0x1000, ushort sport = 40000, ushort dport = 5201, uint ack = 777, ushort window = 512, byte ttl = 64)
    {
        ipOptions ??= [];
        tcpOptions ??= [];
        int ih = 20 + ipOptions.Length, th = 20 + tcpOptions.Length;
        var p = new byte[ih + th + payload.Length];
        p[0] = (byte)(0x40 | (ih / 4));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        p[6] = 0x40; // DF
        p[8] = ttl; p[9] = 6;
        Src.CopyTo(p, 12); Dst.CopyTo(p, 16);
        ipOptions.CopyTo(p, 20);
        var t = p.AsSpan(ih);
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], dport);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[8..], ack);
        t[12] = (byte)((th / 4) << 4);
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t[14..], window);
        tcpOptions.CopyTo(t[20..]);
        payload.CopyTo(t[th..]);
        FixChecksums(p);
        return p;
    }

    public static byte[] UdpPacket(ReadOnlySpan<byte> payload, ushort id = 0x2000)
    {
        var p = new byte[28 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        p[8] = 64; p[9] = 17;
        Src.CopyTo(p, 12); Dst.CopyTo(p, 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), 5000);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), 53);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payload.Length));
        payload.CopyTo(p.AsSpan(28));
        FixChecksums(p);
        return p;
    }

    /// <summary>Recomputes the IP header checksum and the TCP/UDP checksum (tests' own arithmetic).</summary>
    public static void FixChecksums(byte[] p)
    {
        int ih = (p[0] & 15) * 4;
        p[10] = p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), (ushort)Checksum.Of(p.AsSpan(0, ih)));
        int at = ih + (p[9] == 6 ? 16 : 6);
        p[at] = p[at + 1] = 0;
        int sum = L4Checksum(p);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(at), (ushort)(p[9] == 17 && sum == 0 ? 0xffff : sum));
    }

    /// <summary>The checksum over pseudo-header + L4 bytes as they are: 0 when the stored checksum is right.</summary>
    public static int L4Checksum(ReadOnlySpan<byte> p)
    {
        int ih = (p[0] & 15) * 4;
        int l4 = BinaryPrimitives.ReadUInt16BigEndian(p[2..]) - ih;
        var buf = new byte[12 + l4];
        p.Slice(12, 8).CopyTo(buf);
        buf[9] = p[9];
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(10), (ushort)l4);
        p.Slice(ih, l4).CopyTo(buf.AsSpan(12));
        return Checksum.Of(buf);
    }

    /// <summary>The folded pseudo-header sum a NEEDS_CSUM packet carries in its checksum field.</summary>
    public static ushort PseudoSum(ReadOnlySpan<byte> p)
    {
        int ih = (p[0] & 15) * 4;
        int l4 = BinaryPrimitives.ReadUInt16BigEndian(p[2..]) - ih;
        var buf = new byte[12];
        p.Slice(12, 8).CopyTo(buf);
        buf[9] = p[9];
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(10), (ushort)l4);
        return (ushort)(~Checksum.Of(buf) & 0xffff);
    }

    /// <summary>virtio_net_hdr + packet, as an offloading TUN read returns it.</summary>
    public static byte[] WithHeader(VirtioNetHdr h, byte[] packet)
    {
        var b = new byte[VirtioNetHdr.Size + packet.Length];
        h.Write(b);
        packet.CopyTo(b, VirtioNetHdr.Size);
        return b;
    }

    public static byte[] Payload(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }
}
