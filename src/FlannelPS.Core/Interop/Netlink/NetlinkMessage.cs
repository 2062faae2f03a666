// One message the kernel sent: its header fields and its payload (the family header and the
// attributes after it), copied out of the receive buffer so dumps can be parsed after reading.
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Interop.Netlink;

internal sealed class NetlinkMessage(ushort type, ushort flags, uint sequence, byte[] payload)
{
    public ushort Type { get; } = type;
    public ushort Flags { get; } = flags;
    public uint Sequence { get; } = sequence;
    public byte[] Payload { get; } = payload;

    /// <summary>The attributes that follow a fixed header of <paramref name="headerSize"/> bytes.</summary>
    public NetlinkAttributes Attributes(int headerSize) => NetlinkAttributes.Parse(Payload, headerSize, Payload.Length - headerSize);

    public byte U8(int offset) => Payload[offset];
    public ushort U16(int offset) => MemoryMarshal.Read<ushort>(Payload.AsSpan(offset));
    public int S32(int offset) => MemoryMarshal.Read<int>(Payload.AsSpan(offset));
    public uint U32(int offset) => MemoryMarshal.Read<uint>(Payload.AsSpan(offset));

    /// <summary>Splits a datagram from the kernel into messages; a length that runs past the end is malformed.</summary>
    public static List<NetlinkMessage> Split(ReadOnlySpan<byte> datagram)
    {
        var list = new List<NetlinkMessage>();
        var off = 0;
        while (datagram.Length - off >= Netlink.HeaderSize)
        {
            var h = datagram[off..];
            var len = MemoryMarshal.Read<uint>(h);
            if (len < Netlink.HeaderSize || len > h.Length)
                throw new InvalidDataException($"netlink message at offset {off} has length {len}, but {h.Length} bytes remain");
            var type = MemoryMarshal.Read<ushort>(h[4..]);
            var flags = MemoryMarshal.Read<ushort>(h[6..]);
            var seq = MemoryMarshal.Read<uint>(h[8..]);
            list.Add(new NetlinkMessage(type, flags, seq, h[Netlink.HeaderSize..(int)len].ToArray()));
            off += Netlink.Align((int)len);
        }
        return list;
    }
}
