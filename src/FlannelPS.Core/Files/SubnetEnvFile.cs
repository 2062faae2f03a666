// Reads and writes subnet.env: written atomically (0644) after the lease is acquired, read back at
// start so a restarted node asks for the subnet it had (flannel v0.8+ reuse rule).
using System.Globalization;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Files;

/// <summary>A subnet.env as read back: every key/value, plus the values flannel interprets.</summary>
/// <param name="Values">Every KEY=VALUE in the file (what mk-docker-opts sources).</param>
/// <param name="PreviousNetwork">FLANNEL_NETWORK masked; null when absent, unparsable or a comma list.</param>
/// <param name="PreviousSubnet">FLANNEL_SUBNET masked (10.0.72.1/24 → 10.0.72.0/24); null likewise.</param>
/// <param name="Mtu">FLANNEL_MTU when it is a positive integer.</param>
/// <param name="IpMasq">FLANNEL_IPMASQ when it is exactly true or false.</param>
public sealed record SubnetEnvContents(
    IReadOnlyDictionary<string, string> Values,
    Ip4Net? PreviousNetwork,
    Ip4Net? PreviousSubnet,
    int? Mtu,
    bool? IpMasq);

public static class SubnetEnvFile
{
    public const string DefaultPath = "/run/flannel/subnet.env";

    public static void Write(string path, SubnetEnv env) => AtomicFile.WriteAllText(path, env.Render());

    /// <summary>Null when the file does not exist (a first start).</summary>
    public static SubnetEnvContents? Read(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path)) : null;

    public static SubnetEnvContents Parse(string text)
    {
        var values = EnvFile.Parse(text);
        int? mtu = values.TryGetValue("FLANNEL_MTU", out var m)
            && int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out var mv) && mv > 0 ? mv : null;
        bool? masq = values.TryGetValue("FLANNEL_IPMASQ", out var q) ? q switch { "true" => true, "false" => false, _ => null } : null;
        return new SubnetEnvContents(values, Cidr(values, "FLANNEL_NETWORK"), Cidr(values, "FLANNEL_SUBNET"), mtu, masq);
    }

    // flannel HEAD treats a comma-separated list (several CIDRs) as "no previous value".
    private static Ip4Net? Cidr(IReadOnlyDictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var text) && !text.Contains(',') && Ip4Net.TryParse(text, out var net) ? net : null;
}
