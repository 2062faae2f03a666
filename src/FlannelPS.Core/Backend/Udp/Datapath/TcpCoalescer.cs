// The receive side's counterpart of TunSegmenter: consecutive in-order TCP segments of one flow,
// as a peer's TSO burst arrives, are joined into one super-packet written into flannel0 with a
// virtio_net_hdr (GSO_TCPV4, NEEDS_CSUM), so the kernel's TCP receives one 64 KB packet instead of
// forty-odd 1.4 KB ones. A segment joins its flow's run when it carries plain data (ACK, maybe PSH;
// no SYN/FIN/RST/URG/ECE/CWR), no IP options and is not a fragment, follows the run's last byte
// exactly, and repeats the run's headers (TOS, DF, TTL, ack, window, TCP options); its payload is
// at most the run's segment size, and a shorter one or one with PSH ends the run. Anything else
// (UDP, ICMP, fragments, IP options, out-of-order or control segments) is written as it came,
// after the run of its own flow (for a fragment, whose ports may be elsewhere: after every run
// between its two addresses), so a flow's bytes are never reordered. A segment joins only with valid
// IP and TCP checksums: the kernel checks those of a packet written as it came, but takes a joined
// one (written NEEDS_CSUM) as already checked, and the outer UDP checksum proves neither (it may be
// 0, "none"). A segment that fails is written as it came, for the kernel to drop.
// Runs are flushed at the end of every receive batch; buffers are allocated once.
using System.Buffers.Binary;
using FlannelPS.Core.Interop;

namespace FlannelPS.Core.Backend.Udp.Datapath;

internal sealed class TcpCoalescer
{
    public const int DefaultFlows = 8;
    private const byte TcpAck = 0x10, TcpPsh = 0x08;
    private const int IpHeader = 20;

    private sealed class Run
    {
        /// <summary>virtio_net_hdr, then the packet: the first segment's headers and every segment's payload.</summary>
        public readonly byte[] Buffer = GC.AllocateArray<byte>(VirtioNetHdr.Size + Ipv4Packet.MaxLength, pinned: true);
        public bool Open;
        public uint Source, Destination, Ports;
        public int Length, Headers, SegmentSize, Segments;
        public uint NextSeq;
        public Span<byte> Packet => Buffer.AsSpan(VirtioNetHdr.Size, Length);
    }

    private readonly Run[] _runs;
    private readonly ITunSink _sink;
    private int _evict;

    public TcpCoalescer(ITunSink sink, int flows = DefaultFlows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(flows, 1);
        _sink = sink;
        _runs = new Run[flows];
        for (int i = 0; i < flows; i++) _runs[i] = new Run();
    }

    /// <summary>Super-packets written (two or more segments each) and the segments they held; one writer, the lane's thread.</summary>
    public long SuperPackets, SuperPacketSegments;

    /// <summary>
    /// Takes one received IPv4 packet that has passed the datapath's checks (IPv4, header length ≥ 5
    /// words, total length = its length, TTL already decremented): joins it to its flow's run, or
    /// writes it (after its flow's run) as it came.
    /// </summary>
    public void Add(ReadOnlySpan<byte> p)
    {
        if (p[9] != Ipv4Packet.ProtocolTcp)
        {
            Pass(p); // another protocol: no run of its flow
            return;
        }
        if ((BinaryPrimitives.ReadUInt16BigEndian(p[6..]) & 0x3fff) != 0)
        {
            // A fragment: its ports may not even be in it, so every run between its addresses goes first.
            FlushBetween(Ipv4Packet.SourceValue(p), Ipv4Packet.DestinationValue(p));
            Pass(p);
            return;
        }
        int ipHeader = Ipv4Packet.HeaderLength(p);
        if (ipHeader + 20 > p.Length) { Pass(p); return; }
        var tcp = p[ipHeader..];
        int tcpHeader = (tcp[12] >> 4) * 4;
        uint src = Ipv4Packet.SourceValue(p), dst = Ipv4Packet.DestinationValue(p);
        uint ports = BinaryPrimitives.ReadUInt32BigEndian(tcp);
        var run = Find(src, dst, ports);
        int payload = p.Length - ipHeader - tcpHeader;
        byte flags = tcp[13];
        bool plain = ipHeader == IpHeader && tcpHeader >= 20 && payload > 0 && (flags & ~TcpPsh) == TcpAck
            && ChecksumsValid(p, src, dst);
        if (!plain)
        {
            if (run is not null) Flush(run);
            Pass(p);
            return;
        }
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        if (run is not null)
        {
            if (Joins(run, p, tcpHeader, seq, payload))
            {
                p[(IpHeader + tcpHeader)..].CopyTo(run.Buffer.AsSpan(VirtioNetHdr.Size + run.Length));
                run.Length += payload;
                run.NextSeq = seq + (uint)payload;
                run.Segments++;
                if ((flags & TcpPsh) != 0) run.Buffer[VirtioNetHdr.Size + IpHeader + 13] |= TcpPsh;
                if (payload < run.SegmentSize || (flags & TcpPsh) != 0) Flush(run);
                return;
            }
            Flush(run);
        }
        if ((flags & TcpPsh) != 0) { Pass(p); return; } // a run of one: nothing to join
        run = Free();
        p.CopyTo(run.Buffer.AsSpan(VirtioNetHdr.Size));
        run.Open = true;
        run.Source = src;
        run.Destination = dst;
        run.Ports = ports;
        run.Length = p.Length;
        run.Headers = IpHeader + tcpHeader;
        run.SegmentSize = payload;
        run.Segments = 1;
        run.NextSeq = seq + (uint)payload;
    }

    /// <summary>Writes every open run (the end of a receive batch).</summary>
    public void Flush()
    {
        foreach (var run in _runs) if (run.Open) Flush(run);
    }

    private void FlushBetween(uint src, uint dst)
    {
        foreach (var run in _runs) if (run.Open && run.Source == src && run.Destination == dst) Flush(run);
    }

    /// <summary>The IP header's checksum and the TCP checksum (over the pseudo-header, header and payload) both hold.</summary>
    private static bool ChecksumsValid(ReadOnlySpan<byte> p, uint src, uint dst) =>
        InternetChecksum.Sum(p[..IpHeader]) == 0xffff
        && InternetChecksum.Add(InternetChecksum.PseudoHeader(src, dst, Ipv4Packet.ProtocolTcp, p.Length - IpHeader), InternetChecksum.Sum(p[IpHeader..])) == 0xffff;

    private static bool Joins(Run run, ReadOnlySpan<byte> p, int tcpHeader, uint seq, int payload)
    {
        var first = run.Buffer.AsSpan(VirtioNetHdr.Size);
        return run.Headers == IpHeader + tcpHeader
            && seq == run.NextSeq
            && payload <= run.SegmentSize
            && run.Length + payload <= Ipv4Packet.MaxLength
            && p[1] == first[1]                              // TOS
            && (p[6] & 0x40) == (first[6] & 0x40)            // DF
            && p[8] == first[8]                              // TTL
            // ack number, data offset, window, and the options: equal; flags were checked by the caller
            && p.Slice(IpHeader + 8, 5).SequenceEqual(first.Slice(IpHeader + 8, 5))
            && p.Slice(IpHeader + 14, 2).SequenceEqual(first.Slice(IpHeader + 14, 2))
            && p.Slice(IpHeader + 20, tcpHeader - 20).SequenceEqual(first.Slice(IpHeader + 20, tcpHeader - 20));
    }

    private Run? Find(uint src, uint dst, uint ports)
    {
        foreach (var r in _runs)
            if (r.Open && r.Ports == ports && r.Source == src && r.Destination == dst) return r;
        return null;
    }

    private Run Free()
    {
        foreach (var r in _runs) if (!r.Open) return r;
        var victim = _runs[_evict];
        _evict = (_evict + 1) % _runs.Length;
        Flush(victim);
        return victim;
    }

    /// <summary>Writes a packet as it came; the sink counts what it could not write.</summary>
    private void Pass(ReadOnlySpan<byte> p) => _sink.Write(VirtioNetHdr.Plain, p);

    private void Flush(Run run)
    {
        run.Open = false;
        var p = run.Packet;
        if (run.Segments == 1)
        {
            Pass(p); // unchanged: its checksums are the sender's
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)run.Length);
        Ipv4Packet.WriteHeaderChecksum(p);
        // NEEDS_CSUM: the TCP checksum field holds the pseudo-header sum; the kernel completes it per segment.
        int tcpLength = run.Length - IpHeader;
        BinaryPrimitives.WriteUInt16BigEndian(p[(IpHeader + 16)..], InternetChecksum.PseudoHeader(run.Source, run.Destination, Ipv4Packet.ProtocolTcp, tcpLength));
        new VirtioNetHdr
        {
            Flags = VirtioNetHdr.FlagNeedsCsum,
            GsoType = VirtioNetHdr.GsoTcpV4,
            HdrLen = (ushort)run.Headers,
            GsoSize = (ushort)run.SegmentSize,
            CsumStart = IpHeader,
            CsumOffset = 16,
        }.Write(run.Buffer);
        if (_sink.Write(run.Buffer.AsSpan(0, VirtioNetHdr.Size), p))
        {
            SuperPackets++;
            SuperPacketSegments += run.Segments;
        }
    }
}
