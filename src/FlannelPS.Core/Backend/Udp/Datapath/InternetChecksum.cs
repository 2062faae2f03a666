// RFC 1071 Internet checksum (one's-complement sum of 16-bit words) for IPv4, ICMP, TCP and UDP.
// Sum works on the host's little-endian words and swaps the folded result: the one's-complement
// sum is the same in either byte order up to that swap (RFC 1071, section 2). Each 8-byte word is
// added as its two 32-bit halves into a 64-bit total, so there is no carry to test per word (a
// data-dependent branch that mispredicted on payload bytes: it showed in perf as the hottest loop
// of the segmenting thread); the total cannot overflow below 2^32 words. Where the CPU has 256-bit
// vectors, the same is done for four words at a time in four lanes, two vectors per step (the
// scalar form ran at about 8.5 GB/s and was the segmenting thread's largest user-space cost).
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FlannelPS.Core.Backend.Udp.Datapath;

public static class InternetChecksum
{
    public static ushort Compute(ReadOnlySpan<byte> data) => (ushort)~Sum(data);

    /// <summary>The folded (not complemented) one's-complement sum of <paramref name="data"/> as big-endian 16-bit words.</summary>
    public static ushort Sum(ReadOnlySpan<byte> data)
    {
        ulong s = 0;
        if (Vector256.IsHardwareAccelerated && data.Length >= 64)
        {
            s = SumVectors(data, out int done);
            data = data[done..]; // done is a multiple of 64: the rest starts on an even byte, as 16-bit words need
        }
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong w in words) s += (w & 0xffffffff) + (w >> 32);
        s = (s & 0xffffffff) + (s >> 32); // no overflow: the vector part is below 2^61, the word part below 2^63
        int i = words.Length * 8;
        for (; i + 1 < data.Length; i += 2) s += (ulong)(data[i] | (data[i + 1] << 8));
        if (i < data.Length) s += data[i];
        ushort folded = Fold(s);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(folded) : folded;
    }

    /// <summary>
    /// The unfolded sum of the 64-byte blocks of <paramref name="data"/>, as the scalar loop would add
    /// them (each 8-byte word as its two 32-bit halves); <paramref name="done"/>: the bytes it covered.
    /// A lane gains below 2^33 per block, so spans up to 2 GB stay below 2^59 per lane.
    /// </summary>
    private static ulong SumVectors(ReadOnlySpan<byte> data, out int done)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        var low = Vector256.Create(0xffffffffUL);
        Vector256<ulong> a = Vector256<ulong>.Zero, b = Vector256<ulong>.Zero;
        int i = 0;
        for (; i + 64 <= data.Length; i += 64)
        {
            var v = Vector256.LoadUnsafe(ref start, (nuint)i).AsUInt64();
            var w = Vector256.LoadUnsafe(ref start, (nuint)(i + 32)).AsUInt64();
            a += (v & low) + Vector256.ShiftRightLogical(v, 32);
            b += (w & low) + Vector256.ShiftRightLogical(w, 32);
        }
        done = i;
        return Vector256.Sum(a + b);
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
