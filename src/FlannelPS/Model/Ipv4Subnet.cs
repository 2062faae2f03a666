// A subnet in cmdlet output. It prints as "10.0.72.0/24", sorts by address (10.0.9.0/24 before
// 10.0.72.0/24, which text order gets wrong), compares equal to its text (-eq '10.0.72.0/24') and
// converts from a string, so Sort-Object Subnet and [FlannelPS.Model.Ipv4Subnet]'10.0.72.0/24' work.
using System.Diagnostics.CodeAnalysis;
using FlannelPS.Core.Net;

namespace FlannelPS.Model;

public sealed class Ipv4Subnet : Ipv4Value<Ipv4Subnet, Ip4Net>
{
    internal Ipv4Subnet(Ip4Net net) : base(net) { }

    /// <summary>The network address, e.g. 10.0.72.0; ConvertTo-Json shows it with the prefix length.</summary>
    public string Address => Value.Address.ToString();

    public int PrefixLength => Value.PrefixLength;

    /// <summary>PowerShell converts strings through this: [FlannelPS.Model.Ipv4Subnet]'10.0.72.0/24'.</summary>
    public static Ipv4Subnet Parse(string text) => new(Ip4Net.Parse(text));

    internal static Ipv4Subnet? From(string? text) => Ip4Net.TryParse(text, out var net) ? new(net) : null;

    private protected override bool TryParseText(string text, [NotNullWhen(true)] out Ipv4Subnet? value) => (value = From(text)) is not null;
}
