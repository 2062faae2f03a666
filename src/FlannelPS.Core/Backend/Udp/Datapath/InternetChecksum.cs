// RFC 1071 Internet checksum (one's-complement sum of 16-bit words) for IPv4, ICMP, TCP and UDP.
// Sum works 8 bytes at a time on the host's little-endian words and swaps the folded result: the
// one's-complement sum is the same in either byte order up to that swap (RFC 1071, section 2).
// Each 8-byte word is added as its two 32-bit halves into a 64-bit total, so there is no carry to
// test per word (a data-dependent branch that mispredicted on payload bytes: it showed in perf as
// the hottest loop of the segmenting thread); the total cannot overflow below 2^32 words.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Backend.Udp.Datapath;

public static class InternetChecksum
{
    public static ushort Compute(ReadOnlySpan<byte> data) => (ushort)~Sum(data);

    /// <summary>The folded (not complemented) one's-complement sum of <paramref name="data"/> as big-endian 16-bit words.</summary>
    public static ushort Sum(ReadOnlySpan<byte> data)
    {
        ulong s = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong w in words) s += (w & 0xffffffff) + (w >> 32);
        s = (s & 0xffffffff) + (s >> 32);
        int i = words.Length * 8;
        for (; i + 1 < data.Length; i += 2) s += (ulong)(data[i] | (data[i + 1] << 8));
        if (i < data.Length) s += data[i];
        ushort folded = Fold(s);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(folded) : folded;
    }

    /// <summary>One's-complement sum of two folded sums.</summary>
    public static ushort Add(ushort a, ushort b) => Fold((ulong)a + b);

    /// <summary>The folded sum of the IPv4 pseudo-header (addresses host order) for an L4 segment of <paramref name="length"/> bytes.</summary>
    public static ushort PseudoHeader(uint source, uint destination, byte protocol, int length) =>
        Fold((ulong)(source >> 16) + (source & 0xffff) + (destination >> 16) + (destination & 0xffff) + protocol + (uint)length);

    private static ushort Fold(ulong s)
    {
        s = (s & 0xffffffff) + (s >> 32);
        s = (s & 0xffffffff) + (s >> 32);
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        return (ushort)s;
    }
}
