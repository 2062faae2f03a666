// An independent RFC 1071 checksum for the tests (not the product's): sums 16-bit words as ints
// and folds at the end; a correct header/message sums to 0.
namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

internal static class Checksum
{
    public static int Of(ReadOnlySpan<byte> data)
    {
        long sum = 0;
        for (int i = 0; i < data.Length; i += 2)
            sum += (data[i] << 8) + (i + 1 < data.Length ? data[i + 1] : 0);
        while (sum > 0xffff) sum = (sum >> 16) + (sum & 0xffff);
        return (int)(~sum & 0xffff);
    }
}
