// Builds a train of netlink messages in one growing buffer: a header per message, a fixed family
// header (ifinfomsg, ifaddrmsg, rtmsg, ndmsg), then 4-byte aligned attributes, nested where needed.
// Integers are in host order, as netlink wants, except where an attribute is defined in network
// order (IPv4 addresses, IFLA_VXLAN_PORT). Padding is always zero.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Interop.Netlink;

internal sealed class NetlinkWriter
{
    private byte[] _buffer;
    private int _length;
    private int _messageStart = -1;
    private readonly List<int> _messageStarts = [];
    private readonly List<uint> _sequences = [];

    public NetlinkWriter(int capacity = 4096) => _buffer = new byte[capacity];

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public int MessageCount => _messageStarts.Count;

    /// <summary>Offset and length of message <paramref name="i"/> in <see cref="Written"/>.</summary>
    public (int Offset, int Length) MessageBounds(int i)
    {
        var start = _messageStarts[i];
        var end = i + 1 < _messageStarts.Count ? _messageStarts[i + 1] : _length;
        return (start, end - start);
    }

    public uint Sequence(int i) => _sequences[i];

    /// <summary>Starts a message; its length is filled in by <see cref="End"/>.</summary>
    public void Begin(ushort type, ushort flags, uint sequence)
    {
        if (_messageStart >= 0) throw new InvalidOperationException("the previous netlink message was not ended");
        _messageStart = _length;
        _messageStarts.Add(_length);
        _sequences.Add(sequence);
        var h = Reserve(Netlink.HeaderSize);
        MemoryMarshal.Write(h[4..], in type);
        MemoryMarshal.Write(h[6..], in flags);
        MemoryMarshal.Write(h[8..], in sequence);
        // nlmsg_pid stays 0: the kernel fills in the sender's port id.
    }

    public void End()
    {
        if (_messageStart < 0) throw new InvalidOperationException("no netlink message was begun");
        var len = (uint)(_length - _messageStart);
        MemoryMarshal.Write(_buffer.AsSpan(_messageStart), in len);
        _messageStart = -1;
    }

    public void IfInfo(byte family, int index, uint flags = 0, uint change = 0)
    {
        var b = Reserve(Rtnl.IfInfoMsgSize);
        b[0] = family;
        MemoryMarshal.Write(b[4..], in index);
        MemoryMarshal.Write(b[8..], in flags);
        MemoryMarshal.Write(b[12..], in change);
    }

    public void IfAddr(byte family, byte prefixLength, byte scope, int index)
    {
        var b = Reserve(Rtnl.IfAddrMsgSize);
        b[0] = family;
        b[1] = prefixLength;
        b[3] = scope;
        MemoryMarshal.Write(b[4..], in index);
    }

    public void Rt(byte family, byte dstLength, byte table, byte protocol, byte scope, byte type, uint flags)
    {
        var b = Reserve(Rtnl.RtMsgSize);
        b[0] = family;
        b[1] = dstLength;
        b[4] = table;
        b[5] = protocol;
        b[6] = scope;
        b[7] = type;
        MemoryMarshal.Write(b[8..], in flags);
    }

    public void Nd(byte family, int index, ushort state, byte flags)
    {
        var b = Reserve(Rtnl.NdMsgSize);
        b[0] = family;
        MemoryMarshal.Write(b[4..], in index);
        MemoryMarshal.Write(b[8..], in state);
        b[10] = flags;
    }

    /// <summary>An attribute with no payload whose presence is the value (IFLA_VXLAN_GBP).</summary>
    public void Flag(ushort type) => AttrSpace(type, 0);

    public void U8(ushort type, byte value) => AttrSpace(type, 1)[0] = value;

    public void U32(ushort type, uint value) => MemoryMarshal.Write(AttrSpace(type, 4), in value);

    public void Be16(ushort type, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(AttrSpace(type, 2), value);

    public void Ip4(ushort type, Ip4 address) => address.WriteBytes(AttrSpace(type, 4));

    public void Mac(ushort type, MacAddress mac) => mac.WriteTo(AttrSpace(type, 6));

    /// <summary>A NUL-terminated string, as IFLA_IFNAME and IFLA_INFO_KIND are.</summary>
    public void String(ushort type, string value)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        var b = AttrSpace(type, n + 1);
        Encoding.UTF8.GetBytes(value, b);
        b[n] = 0;
    }

    /// <summary>Opens a nested attribute; pass the token to <see cref="EndNested"/> once its children are written.</summary>
    public int BeginNested(ushort type)
    {
        var start = _length;
        AttrSpace((ushort)(type | Netlink.NLA_F_NESTED), 0);
        return start;
    }

    public void EndNested(int token)
    {
        var len = (ushort)(_length - token);
        MemoryMarshal.Write(_buffer.AsSpan(token), in len);
    }

    private Span<byte> AttrSpace(ushort type, int payload)
    {
        if (_messageStart < 0) throw new InvalidOperationException("attribute outside a netlink message");
        var total = Netlink.AttrHeaderSize + payload;
        if (total > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(payload), "a netlink attribute holds at most 65531 bytes");
        var b = Reserve(Netlink.Align(total));
        var len = (ushort)total;
        MemoryMarshal.Write(b, in len);
        MemoryMarshal.Write(b[2..], in type);
        return b.Slice(Netlink.AttrHeaderSize, payload);
    }

    /// <summary>Appends <paramref name="n"/> zeroed bytes (n is a multiple of 4) and returns them.</summary>
    private Span<byte> Reserve(int n)
    {
        if (_length + n > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
        var s = _buffer.AsSpan(_length, n);
        s.Clear();
        _length += n;
        return s;
    }
}
