// struct virtio_net_hdr, the 10 bytes a TUN opened with IFF_VNET_HDR puts before every packet it
// hands out and expects before every packet written to it. Fields are little-endian (the TUN's
// default on a little-endian host). It says whether the packet is a GSO super-packet the reader
// must cut (gso_type, gso_size: the payload bytes per segment, hdr_len: the header bytes each
// segment repeats) and whether its L4 checksum is still to be finished (NEEDS_CSUM: the checksum
// field holds the pseudo-header sum; the full sum covers bytes from csum_start, stored at
// csum_start + csum_offset).
using System.Buffers.Binary;

namespace FlannelPS.Core.Interop;

public struct VirtioNetHdr
{
    public const int Size = 10;
    public const byte FlagNeedsCsum = 1;
    public const byte FlagDataValid = 2;
    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoUdp = 3;
    public const byte GsoTcpV6 = 4;
    public const byte GsoUdpL4 = 5;
    /// <summary>Set in gso_type beside the type when the packet carries ECN (CWR) bits.</summary>
    public const byte GsoEcn = 0x80;

    private static readonly byte[] PlainBytes = new byte[Size];

    /// <summary>The header of a plain packet: no GSO, checksum complete (all zero).</summary>
    public static ReadOnlySpan<byte> Plain => PlainBytes;

    public byte Flags;
    public byte GsoType;
    public ushort HdrLen;
    public ushort GsoSize;
    public ushort CsumStart;
    public ushort CsumOffset;

    public static VirtioNetHdr Read(ReadOnlySpan<byte> b) => new()
    {
        Flags = b[0],
        GsoType = b[1],
        HdrLen = BinaryPrimitives.ReadUInt16LittleEndian(b[2..]),
        GsoSize = BinaryPrimitives.ReadUInt16LittleEndian(b[4..]),
        CsumStart = BinaryPrimitives.ReadUInt16LittleEndian(b[6..]),
        CsumOffset = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]),
    };

    public readonly void Write(Span<byte> b)
    {
        b[0] = Flags;
        b[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], HdrLen);
        BinaryPrimitives.WriteUInt16LittleEndian(b[4..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b[6..], CsumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(b[8..], CsumOffset);
    }
}
