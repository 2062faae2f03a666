// An IPv4 network in CIDR form. Parsing follows Go's net.ParseCIDR, which flannel uses:
// host bits are masked away ("10.0.5.0/16" is 10.0.0.0/16).
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FlannelPS.Core.Net;

public readonly record struct Ip4Net(Ip4 Address, int PrefixLength) : IComparable<Ip4Net>
{
    public static uint MaskOf(int prefixLength) => prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);

    public uint Mask => MaskOf(PrefixLength);

    /// <summary>Number of addresses in the network (2^(32-len)).</summary>
    public long Size => 1L << (32 - PrefixLength);

    public static Ip4Net Create(Ip4 address, int prefixLength)
    {
        if (prefixLength is < 0 or > 32) throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength, "Prefix length must be 0..32.");
        return new Ip4Net(new Ip4(address.Value & MaskOf(prefixLength)), prefixLength);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out Ip4Net net) => TryParse(text, out net, out _);

    /// <summary>Parses "a.b.c.d/len"; <paramref name="ip"/> receives the address as written (before masking).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Ip4Net net, out Ip4 ip)
    {
        net = default; ip = default;
        if (string.IsNullOrEmpty(text)) return false;
        var slash = text.IndexOf('/');
        if (slash < 0) return false;
        var lenText = text[(slash + 1)..];
        if (lenText.Length is 0 or > 2 || !lenText.All(char.IsAsciiDigit)) return false;
        var len = int.Parse(lenText, CultureInfo.InvariantCulture);
        if (len > 32 || !Ip4.TryParse(text[..slash], out ip)) return false;
        net = Create(ip, len);
        return true;
    }

    public static Ip4Net Parse(string text) =>
        TryParse(text, out var n) ? n : throw new FormatException($"'{text}' is not a valid IPv4 CIDR (expected a.b.c.d/len).");

    public bool Contains(Ip4 ip) => (ip.Value & Mask) == Address.Value;

    /// <summary>True when the two networks share any address (compared under the shorter mask).</summary>
    public bool Overlaps(Ip4Net other)
    {
        var mask = MaskOf(Math.Min(PrefixLength, other.PrefixLength));
        return (Address.Value & mask) == (other.Address.Value & mask);
    }

    /// <summary>The next network of the same size.</summary>
    public Ip4Net Next() => new(Address.Add(Size), PrefixLength);

    /// <summary>Address order (10.0.9.0/24 before 10.0.72.0/24), then the shorter prefix first.</summary>
    public int CompareTo(Ip4Net other)
    {
        var byAddress = Address.CompareTo(other.Address);
        return byAddress != 0 ? byAddress : PrefixLength.CompareTo(other.PrefixLength);
    }

    public override string ToString() => $"{Address}/{PrefixLength.ToString(CultureInfo.InvariantCulture)}";
}
