// An IPv4 address in cmdlet output. It prints as "192.0.2.10", sorts as an address (192.0.2.9 before
// 192.0.2.10, which text order gets wrong), compares equal to its text (-eq '192.0.2.10') and converts
// from a string, so Sort-Object PublicIP and [FlannelPS.Model.Ipv4Address]'192.0.2.10' both work.
using FlannelPS.Core.Net;

namespace FlannelPS.Model;

public sealed class Ipv4Address : IComparable, IComparable<Ipv4Address>, IEquatable<Ipv4Address>
{
    private readonly Ip4 _ip;

    internal Ipv4Address(Ip4 ip) => _ip = ip;

    /// <summary>The dotted-quad text; ConvertTo-Json shows it under this name.</summary>
    public string Address => _ip.ToString();

    /// <summary>PowerShell converts strings through this: [FlannelPS.Model.Ipv4Address]'192.0.2.10'.</summary>
    public static Ipv4Address Parse(string text) => new(Ip4.Parse(text));

    internal static Ipv4Address? From(string? text) => Ip4.TryParse(text, out var ip) ? new(ip) : null;

    public int CompareTo(Ipv4Address? other) => other is null ? 1 : _ip.CompareTo(other._ip);

    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        Ipv4Address a => CompareTo(a),
        string s => CompareTo(Parse(s)),
        _ => throw new ArgumentException($"Cannot compare an IPv4 address with a {obj.GetType().Name}.", nameof(obj)),
    };

    public bool Equals(Ipv4Address? other) => other is not null && _ip == other._ip;

    public override bool Equals(object? obj) => obj switch
    {
        Ipv4Address a => Equals(a),
        string s => Ip4.TryParse(s, out var ip) && ip == _ip,
        _ => false,
    };

    public override int GetHashCode() => _ip.GetHashCode();

    public override string ToString() => Address;
}
