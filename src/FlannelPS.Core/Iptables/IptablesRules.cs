// flannel HEAD's rule sets, rendered purely from the network and lease: the masquerade
// rules in nat/FLANNEL-POSTRTG and the forward-accept rules in filter/FLANNEL-FWD, each list
// starting with the jump from the built-in chain.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Iptables;

public static class IptablesRules
{
    public const string MasqChain = "FLANNEL-POSTRTG";
    public const string ForwardChain = "FLANNEL-FWD";
    public const string MasqComment = "flanneld masq";
    public const string ForwardComment = "flanneld forward";
    /// <summary>kube-proxy's masquerade mark; traffic it marks is left to kube-proxy.</summary>
    public const string KubeProxyMark = "0x4000/0x4000";
    private const string Multicast = "224.0.0.0/4";

    /// <summary>nat table: jump, then the six FLANNEL-POSTRTG rules in flannel's order.</summary>
    public static IReadOnlyList<IptablesRule> Masquerade(Ip4Net network, Ip4Net lease, bool randomFully)
    {
        string n = network.ToString(), l = lease.ToString();
        string[] Comment(params string[] spec) => [.. spec[..^2], "-m", "comment", "--comment", MasqComment, .. spec[^2..]];
        string[] masq = randomFully ? ["-j", "MASQUERADE", "--random-fully"] : ["-j", "MASQUERADE"];
        return
        [
            new("nat", "POSTROUTING", ["-m", "comment", "--comment", MasqComment, "-j", MasqChain]),
            new("nat", MasqChain, ["-m", "mark", "--mark", KubeProxyMark, "-m", "comment", "--comment", MasqComment, "-j", "RETURN"]),
            new("nat", MasqChain, Comment("-s", l, "-d", n, "-j", "RETURN")),
            new("nat", MasqChain, Comment("-s", n, "-d", l, "-j", "RETURN")),
            new("nat", MasqChain, Comment("!", "-s", n, "-d", l, "-j", "RETURN")),
            new("nat", MasqChain, ["-s", n, "!", "-d", Multicast, "-m", "comment", "--comment", MasqComment, .. masq]),
            new("nat", MasqChain, ["!", "-s", n, "-d", n, "-m", "comment", "--comment", MasqComment, .. masq]),
        ];
    }

    /// <summary>filter table: jump from FORWARD, then ACCEPT from and to the network.</summary>
    public static IReadOnlyList<IptablesRule> Forward(Ip4Net network)
    {
        var n = network.ToString();
        return
        [
            new("filter", "FORWARD", ["-m", "comment", "--comment", ForwardComment, "-j", ForwardChain]),
            new("filter", ForwardChain, ["-s", n, "-m", "comment", "--comment", ForwardComment, "-j", "ACCEPT"]),
            new("filter", ForwardChain, ["-d", n, "-m", "comment", "--comment", ForwardComment, "-j", "ACCEPT"]),
        ];
    }

    /// <summary>The custom chains a rule list needs (table, chain), in first-use order.</summary>
    public static IEnumerable<(string Table, string Chain)> CustomChains(IEnumerable<IptablesRule> rules) =>
        rules.Where(r => r.Chain.StartsWith("FLANNEL-", StringComparison.Ordinal)).Select(r => (r.Table, r.Chain)).Distinct();

    /// <summary>iptables ≥ 1.6.2 knows MASQUERADE --random-fully (flannel's check).</summary>
    public static bool VersionSupportsRandomFully(string versionOutput)
    {
        var m = System.Text.RegularExpressions.Regex.Match(versionOutput, @"v(\d+)\.(\d+)\.(\d+)");
        if (!m.Success) return false;
        var v = new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value));
        return v >= new Version(1, 6, 2);
    }
}
