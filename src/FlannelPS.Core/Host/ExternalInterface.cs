// The underlay interface a node uses: flannel's extIface (name, index, address, MTU) plus the
// address it advertises in its lease (--public-ip, or the interface address).
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public sealed record ExternalInterface(string Name, int Index, Ip4 IfaceAddr, Ip4 ExtAddr, int Mtu);
