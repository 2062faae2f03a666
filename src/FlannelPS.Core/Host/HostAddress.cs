// An IPv4 address on a link, keeping the host part as configured (192.0.2.11/24, not 192.0.2.0/24).
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public readonly record struct HostAddress(Ip4 Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}
