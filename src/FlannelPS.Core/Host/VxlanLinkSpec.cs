// A vxlan device as flannel configures it: `ip link add flannel.1 type vxlan id 1 dev eth0 local
// 192.0.2.10 dstport 8472 nolearning [gbp]` with its MTU and MAC. Read back the same shape, so a
// backend can tell whether an existing device is compatible.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

/// <param name="Port">UDP destination port; 0 means the kernel's default, which on Linux is 8472.</param>
/// <param name="UnderlayIndex">ifindex of the underlay link (`dev`), 0 for none.</param>
public sealed record VxlanLinkSpec(string Name, int Vni, int UnderlayIndex, Ip4 Local, int Port, bool Learning, bool Gbp, int Mtu, MacAddress Mac);
