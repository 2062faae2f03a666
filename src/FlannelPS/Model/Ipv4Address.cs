// An IPv4 address in cmdlet output. It prints as "192.0.2.10", sorts as an address (192.0.2.9 before
// 192.0.2.10, which text order gets wrong), compares equal to its text (-eq '192.0.2.10') and converts
// from a string, so Sort-Object PublicIP and [FlannelPS.Model.Ipv4Address]'192.0.2.10' both work.
using System.Diagnostics.CodeAnalysis;
using FlannelPS.Core.Net;

namespace FlannelPS.Model;

public sealed class Ipv4Address : Ipv4Value<Ipv4Address, Ip4>
{
    internal Ipv4Address(Ip4 ip) : base(ip) { }

    /// <summary>The dotted-quad text; ConvertTo-Json shows it under this name.</summary>
    public string Address => Value.ToString();

    /// <summary>PowerShell converts strings through this: [FlannelPS.Model.Ipv4Address]'192.0.2.10'.</summary>
    public static Ipv4Address Parse(string text) => new(Ip4.Parse(text));

    internal static Ipv4Address? From(string? text) => Ip4.TryParse(text, out var ip) ? new(ip) : null;

    private protected override bool TryParseText(string text, [NotNullWhen(true)] out Ipv4Address? value) => (value = From(text)) is not null;
}
