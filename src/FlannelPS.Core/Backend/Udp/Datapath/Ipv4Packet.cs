// Reads and patches IPv4 headers in place. Callers check MinimumHeaderLength first; every accessor
// works on a span so the packet path never copies or allocates.
using System.Buffers.Binary;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Backend.Udp.Datapath;

public static class Ipv4Packet
{
    public const int MinimumHeaderLength = 20;
    /// <summary>The largest IPv4 packet (the total-length field's limit): what one offloaded TUN read or one GRO receive may hold.</summary>
    public const int MaxLength = 65535;
    public const byte ProtocolIcmp = 1;
    public const byte ProtocolTcp = 6;
    public const byte ProtocolUdp = 17;

    public static int Version(ReadOnlySpan<byte> p) => p[0] >> 4;

    /// <summary>Header length in bytes (IHL × 4).</summary>
    public static int HeaderLength(ReadOnlySpan<byte> p) => (p[0] & 0x0f) * 4;

    public static int TotalLength(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[2..]);

    /// <summary>Fragment offset in 8-byte units (flags masked off).</summary>
    public static int FragmentOffset(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[6..]) & 0x1fff;

    public static byte Ttl(ReadOnlySpan<byte> p) => p[8];

    public static byte Protocol(ReadOnlySpan<byte> p) => p[9];

    public static ushort HeaderChecksum(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[10..]);

    public static Ip4 Source(ReadOnlySpan<byte> p) => new(BinaryPrimitives.ReadUInt32BigEndian(p[12..]));

    public static Ip4 Destination(ReadOnlySpan<byte> p) => new(BinaryPrimitives.ReadUInt32BigEndian(p[16..]));

    /// <summary>Raw destination (host order) for route lookups without constructing anything.</summary>
    public static uint DestinationValue(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[16..]);

    public static uint SourceValue(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[12..]);

    /// <summary>
    /// Decrements the TTL and patches the header checksum incrementally (RFC 1624 eqn. 3). Returns
    /// false, leaving the packet unchanged, when the TTL would reach 0: the packet must be dropped.
    /// </summary>
    public static bool TryDecrementTtl(Span<byte> p)
    {
        int ttl = p[8];
        if (ttl <= 1) return false;
        // The TTL is the high byte of the 16-bit word at offset 8 (TTL, protocol).
        uint oldWord = (uint)((ttl << 8) | p[9]);
        uint newWord = oldWord - 0x0100;
        p[8] = (byte)(ttl - 1);
        uint hc = BinaryPrimitives.ReadUInt16BigEndian(p[10..]);
        // HC' = ~(~HC + ~m + m'), one's-complement sums with end-around carry.
        uint sum = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], (ushort)~sum);
        return true;
    }

    /// <summary>Computes and stores the header checksum over the first HeaderLength bytes.</summary>
    public static void WriteHeaderChecksum(Span<byte> p)
    {
        p[10] = 0; p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], InternetChecksum.Compute(p[..HeaderLength(p)]));
    }
}
