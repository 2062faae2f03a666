// The attributes of one message (or of one nested attribute), indexed by type. Reading is lenient
// the way iproute2 is: unknown types are kept but ignored, a truncated tail ends the list.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Interop.Netlink;

internal readonly struct NetlinkAttributes
{
    private readonly byte[] _buffer;
    private readonly List<(ushort Type, int Offset, int Length)> _items;

    private NetlinkAttributes(byte[] buffer, List<(ushort, int, int)> items)
    {
        _buffer = buffer;
        _items = items;
    }

    public static NetlinkAttributes Parse(byte[] buffer, int offset, int length)
    {
        var items = new List<(ushort, int, int)>();
        var end = offset + length;
        var off = offset;
        while (end - off >= Netlink.AttrHeaderSize)
        {
            var len = MemoryMarshal.Read<ushort>(buffer.AsSpan(off));
            var type = (ushort)(MemoryMarshal.Read<ushort>(buffer.AsSpan(off + 2)) & Netlink.NLA_TYPE_MASK);
            if (len < Netlink.AttrHeaderSize || off + len > end) break;
            items.Add((type, off + Netlink.AttrHeaderSize, len - Netlink.AttrHeaderSize));
            off += Netlink.Align(len);
        }
        return new NetlinkAttributes(buffer, items);
    }

    public bool Has(ushort type) => Find(type) >= 0;

    public bool TryGet(ushort type, out ReadOnlySpan<byte> value)
    {
        var i = Find(type);
        if (i < 0) { value = default; return false; }
        value = _buffer.AsSpan(_items[i].Offset, _items[i].Length);
        return true;
    }

    public NetlinkAttributes? Nested(ushort type)
    {
        var i = Find(type);
        return i < 0 ? null : Parse(_buffer, _items[i].Offset, _items[i].Length);
    }

    public uint? U32(ushort type) => TryGet(type, out var v) && v.Length >= 4 ? MemoryMarshal.Read<uint>(v) : null;

    public byte? U8(ushort type) => TryGet(type, out var v) && v.Length >= 1 ? v[0] : null;

    public ushort? Be16(ushort type) => TryGet(type, out var v) && v.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(v) : null;

    /// <summary>An IPv4 address; null when absent or of another length (an IPv6 one).</summary>
    public Ip4? Ip4(ushort type) => TryGet(type, out var v) && v.Length == 4 ? Net.Ip4.FromBytes(v) : null;

    /// <summary>A 6-byte link-layer address; null when absent or of another length.</summary>
    public MacAddress? Mac(ushort type) => TryGet(type, out var v) && v.Length == 6 ? MacAddress.FromBytes(v) : null;

    public string? String(ushort type)
    {
        if (!TryGet(type, out var v)) return null;
        var nul = v.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? v[..nul] : v);
    }

    private int Find(ushort type)
    {
        for (int i = 0; i < _items.Count; i++) if (_items[i].Type == type) return i;
        return -1;
    }
}
