// Builds the ICMP Destination Unreachable / Net Unreachable (type 3, code 0) that flannel's udp
// proxy writes back into the TUN when a packet's destination has no peer.
using System.Buffers.Binary;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Backend.Udp.Datapath;

public static class IcmpNetUnreachable
{
    public const byte Type = 3;
    public const byte Code = 0;
    public const byte Ttl = 8;
    private const int IcmpHeaderLength = 8;
    private const int QuotedPayload = 8;

    /// <summary>Largest reply: a 20-byte header, the ICMP header, a 60-byte quoted header and 8 bytes.</summary>
    public const int MaxLength = Ipv4Packet.MinimumHeaderLength + IcmpHeaderLength + 60 + QuotedPayload;

    /// <summary>
    /// Writes the reply to <paramref name="offender"/> into <paramref name="destination"/> and returns
    /// its length, or 0 when none is due: the offender is ICMP (RFC 792), a non-first fragment, not
    /// IPv4, or its IHL is invalid or larger than the packet allows.
    /// </summary>
    public static int TryWrite(ReadOnlySpan<byte> offender, Ip4 tunAddress, Span<byte> destination)
    {
        if (offender.Length < Ipv4Packet.MinimumHeaderLength || Ipv4Packet.Version(offender) != 4) return 0;
        int ihl = Ipv4Packet.HeaderLength(offender);
        if (ihl < Ipv4Packet.MinimumHeaderLength || ihl + QuotedPayload > offender.Length) return 0;
        if (Ipv4Packet.Protocol(offender) == Ipv4Packet.ProtocolIcmp) return 0;
        if (Ipv4Packet.FragmentOffset(offender) != 0) return 0;

        int quoted = ihl + QuotedPayload;
        int total = Ipv4Packet.MinimumHeaderLength + IcmpHeaderLength + quoted;
        if (destination.Length < total) return 0;
        var packet = destination[..total];
        packet.Clear();

        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)total);
        packet[8] = Ttl;
        packet[9] = Ipv4Packet.ProtocolIcmp;
        tunAddress.WriteBytes(packet[12..]);
        offender.Slice(12, 4).CopyTo(packet[16..]); // back to the offender's source
        Ipv4Packet.WriteHeaderChecksum(packet);

        var icmp = packet[Ipv4Packet.MinimumHeaderLength..];
        icmp[0] = Type;
        icmp[1] = Code;
        offender[..quoted].CopyTo(icmp[IcmpHeaderLength..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
        return total;
    }
}
