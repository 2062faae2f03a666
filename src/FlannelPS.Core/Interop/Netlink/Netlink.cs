// Constants of the netlink transport itself (linux/netlink.h): the message header, its flags, the
// control messages, and the socket options FlannelPS sets. rtnetlink's own numbers are in Rtnl.
namespace FlannelPS.Core.Interop.Netlink;

internal static class Netlink
{
    public const int AF_NETLINK = 16;
    public const int NETLINK_ROUTE = 0;
    public const int SOL_NETLINK = 270;

    /// <summary>Acks carry TLVs with the kernel's reason for an error ("Nexthop has invalid gateway").</summary>
    public const int NETLINK_EXT_ACK = 11;
    /// <summary>Acks do not echo the request's payload: 36 bytes each instead of the whole message.</summary>
    public const int NETLINK_CAP_ACK = 10;

    /// <summary>sizeof(struct nlmsghdr): u32 len, u16 type, u16 flags, u32 seq, u32 pid.</summary>
    public const int HeaderSize = 16;
    /// <summary>sizeof(struct rtattr): u16 len, u16 type.</summary>
    public const int AttrHeaderSize = 4;

    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    public const ushort NLM_F_REQUEST = 0x01;
    public const ushort NLM_F_MULTI = 0x02;
    public const ushort NLM_F_ACK = 0x04;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_DUMP = 0x300;
    // Modifiers of NEW requests.
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_APPEND = 0x800;
    // Flags of an NLMSG_ERROR ack.
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    /// <summary>NLMSGERR_ATTR_MSG: the kernel's error text, a NUL-terminated string.</summary>
    public const ushort NLMSGERR_ATTR_MSG = 1;

    /// <summary>NLA_F_NESTED: set on the type of an attribute that holds attributes.</summary>
    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLA_TYPE_MASK = 0x3fff;

    public static int Align(int length) => (length + 3) & ~3;
}
