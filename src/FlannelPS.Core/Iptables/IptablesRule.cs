// One iptables rule: table, chain and the rule specification as separate arguments (no shell quoting).
namespace FlannelPS.Core.Iptables;

public sealed record IptablesRule(string Table, string Chain, IReadOnlyList<string> Spec)
{
    /// <summary>The rule as `iptables -t TABLE -S` prints it: "-A CHAIN …", arguments with spaces quoted.</summary>
    public string ToSaveString() => $"-A {Chain} {string.Join(' ', Spec.Select(a => a.Contains(' ') ? $"\"{a}\"" : a))}";

    public bool Equals(IptablesRule? other) =>
        other is not null && Table == other.Table && Chain == other.Chain && Spec.SequenceEqual(other.Spec);

    public override int GetHashCode() => HashCode.Combine(Table, Chain, Spec.Count > 0 ? Spec[^1] : "");

    public override string ToString() => $"-t {Table} {ToSaveString()}";
}
