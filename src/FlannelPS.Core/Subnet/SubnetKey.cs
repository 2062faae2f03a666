// Subnet keys as flannel writes them: "10.0.72.0-24" under <prefix>/subnets/.
using System.Globalization;
using System.Text.RegularExpressions;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public static partial class SubnetKey
{
    public static string Make(Ip4Net subnet) => $"{subnet.Address}-{subnet.PrefixLength.ToString(CultureInfo.InvariantCulture)}";

    // HEAD's regex, anchored; the dual-stack "&v6-len" suffix is accepted and ignored (IPv4 only).
    [GeneratedRegex(@"^(\d+\.\d+.\d+.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$")]
    private static partial Regex KeyRegex();

    public static bool TryParse(string key, out Ip4Net subnet)
    {
        subnet = default;
        var m = KeyRegex().Match(key);
        if (!m.Success || !Ip4.TryParse(m.Groups[1].Value, out var ip)) return false;
        if (!int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var len) || len > 32) return false;
        subnet = new Ip4Net(ip, len);
        return true;
    }
}
