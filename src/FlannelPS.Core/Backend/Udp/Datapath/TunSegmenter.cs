// Turns what one read of an offloading TUN returned (virtio_net_hdr + IPv4 packet) into the packets
// flannel puts on the wire: complete IPv4 packets of at most the overlay MTU, each with a finished
// IP header checksum and L4 checksum, as a peer running flanneld expects (it writes each datagram's
// payload into its TUN unchanged). A TCP super-packet (GSO_TCPV4) is cut into segments of gso_size
// payload bytes, each repeating the IP header (options included) and the TCP header: sequence
// numbers advance by the payload before it, IP ids by one per segment (as the kernel's own
// segmentation does), FIN and PSH stay on the last segment only and CWR on the first only. A UDP
// super-packet (GSO_UDP_L4) is cut into datagrams of gso_size payload bytes each with its own UDP
// header. A single packet whose checksum the kernel left to us (NEEDS_CSUM) gets it finished.
// Nothing is allocated: segments go straight into the batch's slots.
using System.Buffers.Binary;
using FlannelPS.Core.Interop;

namespace FlannelPS.Core.Backend.Udp.Datapath;

internal static class TunSegmenter
{
    public enum Result { Done, BatchFull, Invalid }

    private const byte TcpFin = 0x01, TcpPsh = 0x08, TcpCwr = 0x80;

    /// <summary>
    /// Cuts <paramref name="read"/> (virtio header + packet) into batch slots from <paramref name="slot"/>
    /// on, advancing it. <paramref name="segment"/> is the next segment to cut (0 for a fresh read):
    /// on BatchFull the caller sends the batch and calls again with slot reset and segment as left.
    /// Segments carry at most <paramref name="mtu"/> bytes. Invalid: nothing sensible can be cut.
    /// </summary>
    public static Result Cut(Span<byte> read, PacketBatch batch, ref int slot, int mtu, ref int segment)
    {
        if (read.Length < VirtioNetHdr.Size) return Result.Invalid;
        var h = VirtioNetHdr.Read(read);
        var p = read[VirtioNetHdr.Size..];
        int gso = h.GsoType & ~VirtioNetHdr.GsoEcn;
        if (gso == VirtioNetHdr.GsoNone)
        {
            if (slot >= batch.Capacity) return Result.BatchFull;
            if ((h.Flags & VirtioNetHdr.FlagNeedsCsum) != 0 && !FinishChecksum(p, h.CsumStart, h.CsumOffset)) return Result.Invalid;
            // An over-slot packet is copied as far as it fits; its length makes the caller drop it as too long.
            p[..Math.Min(p.Length, batch.SlotSize)].CopyTo(batch.Slot(slot));
            batch.Lengths[slot++] = p.Length;
            segment = 0;
            return Result.Done;
        }
        if (p.Length < Ipv4Packet.MinimumHeaderLength || Ipv4Packet.Version(p) != 4) return Result.Invalid;
        int ipHeader = Ipv4Packet.HeaderLength(p);
        if (ipHeader < Ipv4Packet.MinimumHeaderLength || ipHeader > p.Length) return Result.Invalid;
        bool tcp = gso == VirtioNetHdr.GsoTcpV4;
        if (!tcp && gso != VirtioNetHdr.GsoUdpL4) return Result.Invalid;
        if (p[9] != (tcp ? Ipv4Packet.ProtocolTcp : Ipv4Packet.ProtocolUdp)) return Result.Invalid;
        int l4Header;
        if (tcp)
        {
            if (ipHeader + 20 > p.Length) return Result.Invalid;
            l4Header = (p[ipHeader + 12] >> 4) * 4;
            if (l4Header < 20) return Result.Invalid;
        }
        else l4Header = 8;
        int headers = ipHeader + l4Header;
        if (headers > p.Length) return Result.Invalid;
        int payload = p.Length - headers;
        // TCP is a byte stream: cut at the MTU when the kernel's size would exceed it. A UDP super-packet's
        // gso_size is the application's datagram size: cut elsewhere, its datagrams would change, so
        // one that does not fit is refused (the plain path drops such a packet as too long).
        if (!tcp && h.GsoSize > mtu - headers) return Result.Invalid;
        int size = Math.Min((int)h.GsoSize, mtu - headers);
        if (size <= 0 || headers + size > batch.SlotSize) return Result.Invalid;
        int count = payload == 0 ? 1 : (payload + size - 1) / size;

        uint src = Ipv4Packet.SourceValue(p), dst = Ipv4Packet.DestinationValue(p);
        ushort id0 = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        uint seq0 = tcp ? BinaryPrimitives.ReadUInt32BigEndian(p[(ipHeader + 4)..]) : 0;
        byte flags0 = tcp ? p[ipHeader + 13] : (byte)0;
        for (; segment < count; segment++)
        {
            if (slot >= batch.Capacity) return Result.BatchFull;
            int offset = segment * size;
            int length = Math.Min(size, payload - offset);
            int total = headers + length;
            var s = batch.Slot(slot);
            p[..headers].CopyTo(s);
            p.Slice(headers + offset, length).CopyTo(s[headers..]);
            BinaryPrimitives.WriteUInt16BigEndian(s[2..], (ushort)total);
            BinaryPrimitives.WriteUInt16BigEndian(s[4..], (ushort)(id0 + segment));
            Ipv4Packet.WriteHeaderChecksum(s);
            var l4 = s[ipHeader..total];
            if (tcp)
            {
                BinaryPrimitives.WriteUInt32BigEndian(l4[4..], seq0 + (uint)offset);
                byte flags = flags0;
                if (segment != count - 1) flags &= unchecked((byte)~(TcpFin | TcpPsh));
                if (segment != 0) flags &= unchecked((byte)~TcpCwr);
                l4[13] = flags;
                l4[16] = 0; l4[17] = 0;
                ushort sum = InternetChecksum.Add(InternetChecksum.PseudoHeader(src, dst, Ipv4Packet.ProtocolTcp, l4.Length), InternetChecksum.Sum(l4));
                BinaryPrimitives.WriteUInt16BigEndian(l4[16..], (ushort)~sum);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(l4[4..], (ushort)l4.Length);
                l4[6] = 0; l4[7] = 0;
                ushort sum = (ushort)~InternetChecksum.Add(InternetChecksum.PseudoHeader(src, dst, Ipv4Packet.ProtocolUdp, l4.Length), InternetChecksum.Sum(l4));
                BinaryPrimitives.WriteUInt16BigEndian(l4[6..], sum == 0 ? (ushort)0xffff : sum); // 0 means "no checksum" in UDP
            }
            batch.Lengths[slot++] = total;
        }
        segment = 0;
        return Result.Done;
    }

    /// <summary>Finishes a partial L4 checksum in place: the field holds the pseudo-header sum; the sum covers [start, end).</summary>
    internal static bool FinishChecksum(Span<byte> p, int start, int offset)
    {
        if (start + offset + 2 > p.Length) return false;
        ushort sum = (ushort)~InternetChecksum.Sum(p[start..]);
        // UDP reserves 0 for "no checksum"; 0xffff is the same value in one's complement.
        if (sum == 0 && start + offset >= 6 && p[9] == Ipv4Packet.ProtocolUdp) sum = 0xffff;
        BinaryPrimitives.WriteUInt16BigEndian(p[(start + offset)..], sum);
        return true;
    }
}
