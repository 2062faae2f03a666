// An IPv4 address as a host-order uint: cheap to compare, mask and hash on the packet path.
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FlannelPS.Core.Net;

public readonly record struct Ip4(uint Value) : IComparable<Ip4>
{
    public static readonly Ip4 Any = new(0);

    public static Ip4 FromBytes(ReadOnlySpan<byte> fourBytes) => new(BinaryPrimitives.ReadUInt32BigEndian(fourBytes));

    public static Ip4 FromIPAddress(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            else throw new FormatException($"'{address}' is not an IPv4 address.");
        }
        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return FromBytes(b);
    }

    /// <summary>Strict dotted-quad parse (four decimal octets), as Go's net.ParseIP accepts for IPv4.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Ip4 ip)
    {
        ip = default;
        if (string.IsNullOrEmpty(text)) return false;
        var parts = text.Split('.');
        if (parts.Length != 4) return false;
        uint v = 0;
        foreach (var p in parts)
        {
            if (p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit)) return false;
            var n = uint.Parse(p, CultureInfo.InvariantCulture);
            if (n > 255) return false;
            v = (v << 8) | n;
        }
        ip = new Ip4(v);
        return true;
    }

    public static Ip4 Parse(string text) =>
        TryParse(text, out var ip) ? ip : throw new FormatException($"'{text}' is not a valid IPv4 address.");

    public void WriteBytes(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[4];
        WriteBytes(b);
        return new IPAddress(b);
    }

    public Ip4 Add(long delta) => new((uint)(Value + delta));

    public int CompareTo(Ip4 other) => Value.CompareTo(other.Value);
    public static bool operator <(Ip4 a, Ip4 b) => a.Value < b.Value;
    public static bool operator >(Ip4 a, Ip4 b) => a.Value > b.Value;
    public static bool operator <=(Ip4 a, Ip4 b) => a.Value <= b.Value;
    public static bool operator >=(Ip4 a, Ip4 b) => a.Value >= b.Value;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Value >> 24}.{(Value >> 16) & 255}.{(Value >> 8) & 255}.{Value & 255}");
}
