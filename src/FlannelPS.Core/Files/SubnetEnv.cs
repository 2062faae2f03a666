// What flanneld publishes in subnet.env for the Docker steps, in the v0.6.1 four-line format.
using System.Globalization;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Files;

/// <param name="Network">The (masked) flannel network from the config.</param>
/// <param name="Subnet">The lease subnet (network address form, e.g. 10.0.72.0/24).</param>
/// <param name="Mtu">The backend's MTU.</param>
/// <param name="IpMasq">Whether flanneld masquerades (--ip-masq).</param>
public sealed record SubnetEnv(Ip4Net Network, Ip4Net Subnet, int Mtu, bool IpMasq)
{
    /// <summary>The lease's first address with the lease length, e.g. 10.0.72.1/24: docker0's --bip.</summary>
    public string BridgeAddress =>
        $"{Subnet.Address.Add(1)}/{Subnet.PrefixLength.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Exactly four lines, each ending in \n, no quotes: what flannel v0.6.1 writes.</summary>
    public string Render() =>
        string.Create(CultureInfo.InvariantCulture,
            $"FLANNEL_NETWORK={Network}\nFLANNEL_SUBNET={BridgeAddress}\nFLANNEL_MTU={Mtu}\nFLANNEL_IPMASQ={(IpMasq ? "true" : "false")}\n");
}
