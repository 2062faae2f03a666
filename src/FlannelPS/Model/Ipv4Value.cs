// What Ipv4Address and Ipv4Subnet share: a Core value (Ip4, Ip4Net) that cmdlet output shows as
// text but that sorts by its value and compares equal to its text, so Sort-Object and -eq work as
// a PowerShell user expects. PowerShell converts strings to either through their static Parse.
using System.Diagnostics.CodeAnalysis;

namespace FlannelPS.Model;

public abstract class Ipv4Value<TSelf, TValue> : IComparable, IComparable<TSelf>, IEquatable<TSelf>
    where TSelf : Ipv4Value<TSelf, TValue>
    where TValue : struct, IComparable<TValue>, IEquatable<TValue>
{
    private protected Ipv4Value(TValue value) => Value = value;

    private protected TValue Value { get; }

    /// <summary>Parses text the way the concrete type's Parse does, without throwing.</summary>
    private protected abstract bool TryParseText(string text, [NotNullWhen(true)] out TSelf? value);

    public int CompareTo(TSelf? other) => other is null ? 1 : Value.CompareTo(other.Value);

    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        TSelf v => CompareTo(v),
        string s => TryParseText(s, out var v) ? CompareTo(v) : throw new FormatException($"Cannot compare {this} with '{s}': not a {typeof(TSelf).Name}."),
        _ => throw new ArgumentException($"Cannot compare a {typeof(TSelf).Name} with a {obj.GetType().Name}.", nameof(obj)),
    };

    public bool Equals(TSelf? other) => other is not null && Value.Equals(other.Value);

    public override bool Equals(object? obj) => obj switch
    {
        TSelf v => Equals(v),
        string s => TryParseText(s, out var v) && Equals(v),
        _ => false,
    };

    public override int GetHashCode() => Value.GetHashCode();

    public override string ToString() => Value.ToString()!;
}
