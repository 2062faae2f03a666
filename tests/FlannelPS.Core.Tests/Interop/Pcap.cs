// Minimal reader for the classic pcap files tcpdump -w writes (test helper).
using System.Buffers.Binary;

namespace FlannelPS.Core.Tests.Interop;

internal static class Pcap
{
    public const int LinkEthernet = 1;
    public const int LinkRaw = 101;

    public static (int LinkType, List<byte[]> Packets) Read(string path)
    {
        var b = File.ReadAllBytes(path);
        var packets = new List<byte[]>();
        if (b.Length < 24) return (0, packets);
        var le = BinaryPrimitives.ReadUInt32LittleEndian(b) is 0xa1b2c3d4 or 0xa1b23c4d;
        uint U32(int o) => le ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o)) : BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(o));
        var link = (int)U32(20);
        for (int o = 24; o + 16 <= b.Length;)
        {
            var caplen = (int)U32(o + 8);
            if (o + 16 + caplen > b.Length) break;
            packets.Add(b.AsSpan(o + 16, caplen).ToArray());
            o += 16 + caplen;
        }
        return (link, packets);
    }

    /// <summary>Strips the link header: the IPv4 packet of a frame (Ethernet, or raw IP / Linux raw 12).</summary>
    public static byte[]? Ipv4Of(int linkType, byte[] frame)
    {
        if (linkType == LinkEthernet)
            return frame.Length > 14 && frame[12] == 0x08 && frame[13] == 0x00 ? frame[14..] : null;
        return frame.Length > 0 && frame[0] >> 4 == 4 ? frame : null;
    }
}
