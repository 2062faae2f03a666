// rtnetlink's numbers (linux/rtnetlink.h, if_link.h, if_addr.h, neighbour.h): message types,
// attribute types and the values of the fixed headers that FlannelPS writes and reads.
namespace FlannelPS.Core.Interop.Netlink;

internal static class Rtnl
{
    public const ushort RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    public const ushort RTM_NEWNEIGH = 28, RTM_DELNEIGH = 29, RTM_GETNEIGH = 30;

    public const byte AF_UNSPEC = 0, AF_INET = 2, AF_BRIDGE = 7;

    // Fixed header sizes.
    public const int IfInfoMsgSize = 16; // u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change
    public const int IfAddrMsgSize = 8;  // u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index
    public const int RtMsgSize = 12;     // u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags
    public const int NdMsgSize = 12;     // u8 family, u8 pad, u16 pad, s32 ifindex, u16 state, u8 flags, u8 type

    public const uint IFF_UP = 0x1;

    // IFLA_*
    public const ushort IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5, IFLA_LINKINFO = 18;
    public const ushort IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2;
    public const ushort IFLA_VXLAN_ID = 1, IFLA_VXLAN_LINK = 3, IFLA_VXLAN_LOCAL = 4, IFLA_VXLAN_LEARNING = 7,
        IFLA_VXLAN_PORT = 15, IFLA_VXLAN_GBP = 23;

    // IFA_*
    public const ushort IFA_ADDRESS = 1, IFA_LOCAL = 2;

    // RTA_* and rtmsg values
    public const ushort RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PREFSRC = 7, RTA_TABLE = 15;
    public const byte RT_TABLE_MAIN = 254;
    public const byte RTPROT_BOOT = 3;
    public const byte RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_NOWHERE = 255;
    public const uint RTNH_F_ONLINK = 4;

    /// <summary>rtm_type values by their iproute2 names (index = RTN_* number).</summary>
    public static readonly string[] RouteTypes =
        ["unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve"];

    public static byte RouteType(string name)
    {
        var i = Array.IndexOf(RouteTypes, name);
        if (i <= 0) throw new ArgumentException($"'{name}' is not a route type ({string.Join(", ", RouteTypes[1..])})", nameof(name));
        return (byte)i;
    }

    public static string RouteTypeName(byte type) => type < RouteTypes.Length ? RouteTypes[type] : type.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // NDA_* and ndmsg values
    public const ushort NDA_DST = 1, NDA_LLADDR = 2;
    public const ushort NUD_PERMANENT = 0x80;
    public const byte NTF_SELF = 0x02;
}
