// A subnet in cmdlet output. It prints as "10.0.72.0/24", sorts by address (10.0.9.0/24 before
// 10.0.72.0/24, which text order gets wrong), compares equal to its text (-eq '10.0.72.0/24') and
// converts from a string, so Sort-Object Subnet and [FlannelPS.Model.Ipv4Subnet]'10.0.72.0/24' work.
using System.Globalization;
using FlannelPS.Core.Net;

namespace FlannelPS.Model;

public sealed class Ipv4Subnet : IComparable, IComparable<Ipv4Subnet>, IEquatable<Ipv4Subnet>
{
    private readonly Ip4Net _net;

    internal Ipv4Subnet(Ip4Net net) => _net = net;

    /// <summary>The network address, e.g. 10.0.72.0; ConvertTo-Json shows it with the prefix length.</summary>
    public string Address => _net.Address.ToString();

    public int PrefixLength => _net.PrefixLength;

    /// <summary>PowerShell converts strings through this: [FlannelPS.Model.Ipv4Subnet]'10.0.72.0/24'.</summary>
    public static Ipv4Subnet Parse(string text) => new(Ip4Net.Parse(text));

    internal static Ipv4Subnet? From(string? text) => Ip4Net.TryParse(text, out var net) ? new(net) : null;

    public int CompareTo(Ipv4Subnet? other) => other is null ? 1 : _net.CompareTo(other._net);

    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        Ipv4Subnet s => CompareTo(s),
        string text => CompareTo(Parse(text)),
        _ => throw new ArgumentException($"Cannot compare a subnet with a {obj.GetType().Name}.", nameof(obj)),
    };

    public bool Equals(Ipv4Subnet? other) => other is not null && _net == other._net;

    public override bool Equals(object? obj) => obj switch
    {
        Ipv4Subnet s => Equals(s),
        string text => Ip4Net.TryParse(text, out var net) && net == _net,
        _ => false,
    };

    public override int GetHashCode() => _net.GetHashCode();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}");
}
