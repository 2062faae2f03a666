// The rtnetlink encoding without a kernel: header fields, 4-byte alignment, nesting, network-order
// fields, and that what the writer produces the reader parses back to the same object.
using System.Buffers.Binary;
using FlannelPS.Core.Host;
using FlannelPS.Core.Interop.Netlink;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Host;

public sealed class RtnetlinkMessagesTests
{
    [Fact]
    public void A_route_replace_has_the_exact_layout_ip_route_replace_sends()
    {
        var w = new NetlinkWriter();
        var route = new HostRoute(Ip4Net.Parse("10.0.5.0/24"), "flannel.1", Ip4.Parse("10.0.5.0")) { OnLink = true };
        RtnetlinkMessages.Route(w, HostChangeKind.Replace, route, 7, 0x01020304);
        byte[] expected =
        [
            60, 0, 0, 0, 24, 0, 0x05, 0x05, 4, 3, 2, 1, 0, 0, 0, 0,   // nlmsghdr: len 60, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE, seq
            2, 24, 0, 0, 254, 3, 0, 1, 4, 0, 0, 0,                     // rtmsg: AF_INET /24, main, boot, universe, unicast, RTNH_F_ONLINK
            8, 0, 15, 0, 254, 0, 0, 0,                                 // RTA_TABLE 254
            8, 0, 1, 0, 10, 0, 5, 0,                                   // RTA_DST 10.0.5.0
            8, 0, 5, 0, 10, 0, 5, 0,                                   // RTA_GATEWAY 10.0.5.0
            8, 0, 4, 0, 7, 0, 0, 0,                                    // RTA_OIF 7
        ];
        Assert.Equal(expected, w.Written.ToArray());
    }

    [Fact]
    public void A_device_route_has_link_scope_and_a_delete_matches_any_protocol_and_scope()
    {
        var w = new NetlinkWriter();
        var route = new HostRoute(Ip4Net.Parse("10.0.0.0/16"), "flannel0", null);
        RtnetlinkMessages.Route(w, HostChangeKind.Add, route, 3, 1);
        RtnetlinkMessages.Route(w, HostChangeKind.Delete, route, 3, 2);
        var msgs = NetlinkMessage.Split(w.Written);
        Assert.Equal((ushort)(Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK | Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL), msgs[0].Flags);
        Assert.Equal((byte)253, msgs[0].U8(6)); // RT_SCOPE_LINK
        Assert.Equal(Rtnl.RTM_DELROUTE, msgs[1].Type);
        Assert.Equal((ushort)(Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK), msgs[1].Flags);
        Assert.Equal(((byte)0, (byte)255, (byte)0), (msgs[1].U8(5), msgs[1].U8(6), msgs[1].U8(7))); // any protocol, RT_SCOPE_NOWHERE, any type
        Assert.Equal([1u, 2u], msgs.Select(m => m.Sequence));
    }

    [Fact]
    public void Strings_are_nul_terminated_and_every_attribute_starts_4_byte_aligned()
    {
        var w = new NetlinkWriter();
        w.Begin(Rtnl.RTM_GETLINK, Netlink.NLM_F_REQUEST, 9);
        w.IfInfo(Rtnl.AF_UNSPEC, 0);
        w.String(Rtnl.IFLA_IFNAME, "eth0");
        w.U8(Rtnl.IFLA_VXLAN_LEARNING, 1);
        w.End();
        var b = w.Written.ToArray();
        Assert.Equal(16 + 16 + 12 + 8, b.Length);
        Assert.Equal(b.Length, BinaryPrimitives.ReadInt32LittleEndian(b));
        Assert.Equal([9, 0, 3, 0, (byte)'e', (byte)'t', (byte)'h', (byte)'0', 0, 0, 0, 0], b[32..44]); // len 9 (4 + "eth0\0"), zero padding to 12
        Assert.Equal([5, 0, 7, 0, 1, 0, 0, 0], b[44..52]);
    }

    [Fact]
    public void A_vxlan_link_nests_its_data_with_the_port_in_network_order_and_parses_back_to_the_spec()
    {
        var spec = new VxlanLinkSpec("flannel.1", 1, 2, Ip4.Parse("192.0.2.10"), 8472, Learning: false, Gbp: true, 1450, MacAddress.Parse("c6:d2:32:6f:8f:44"));
        var w = new NetlinkWriter();
        RtnetlinkMessages.NewVxlan(w, spec, 5);
        var m = Assert.Single(NetlinkMessage.Split(w.Written));
        Assert.Equal((ushort)(Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK | Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL), m.Flags);

        var attrs = m.Attributes(Rtnl.IfInfoMsgSize);
        Assert.True(attrs.TryGet(Rtnl.IFLA_LINKINFO, out var info));
        var data = attrs.Nested(Rtnl.IFLA_LINKINFO)!.Value.Nested(Rtnl.IFLA_INFO_DATA)!.Value;
        Assert.True(data.TryGet(Rtnl.IFLA_VXLAN_PORT, out var port));
        Assert.Equal([0x21, 0x18], port.ToArray()); // 8472 big-endian
        Assert.True(data.TryGet(Rtnl.IFLA_VXLAN_GBP, out var gbp) && gbp.IsEmpty);
        Assert.Equal([192, 0, 2, 10], data.TryGet(Rtnl.IFLA_VXLAN_LOCAL, out var local) ? local.ToArray() : []);
        // The nested attribute's type carries NLA_F_NESTED and its length covers its children exactly.
        var infoOffset = 16 + Rtnl.IfInfoMsgSize + 16 + 12 + 8; // after ifname (16), address (12), mtu (8)
        var raw = w.Written.ToArray();
        Assert.Equal(Rtnl.IFLA_LINKINFO | Netlink.NLA_F_NESTED, BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(infoOffset + 2)));
        Assert.Equal(raw.Length - infoOffset, BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(infoOffset)));
        Assert.Equal(info.Length + 4, raw.Length - infoOffset);

        var link = RtnetlinkMessages.ParseLink(m)!;
        Assert.Equal(("flannel.1", 1450, "vxlan"), (link.Name, link.Mtu, link.Kind));
        Assert.Equal(spec, RtnetlinkMessages.ParseVxlan(link));
        Assert.Equal(spec with { Learning = true, Gbp = false, Port = 0, Local = Ip4.Any, UnderlayIndex = 0 },
            RoundTrip(spec with { Learning = true, Gbp = false, Port = 0, Local = Ip4.Any, UnderlayIndex = 0 }));
    }

    private static VxlanLinkSpec? RoundTrip(VxlanLinkSpec spec)
    {
        var w = new NetlinkWriter();
        RtnetlinkMessages.NewVxlan(w, spec, 1);
        return RtnetlinkMessages.ParseVxlan(RtnetlinkMessages.ParseLink(NetlinkMessage.Split(w.Written)[0])!);
    }

    [Fact]
    public void Neighbour_and_fdb_entries_parse_back_from_their_own_messages()
    {
        var names = new Dictionary<int, string> { [4] = "flannel.1" };
        var mac = MacAddress.Parse("02:00:00:00:00:05");
        var w = new NetlinkWriter();
        RtnetlinkMessages.Neighbour(w, HostChangeKind.Replace, new HostNeighbour("flannel.1", Ip4.Parse("10.0.5.0"), mac), 4, 1);
        RtnetlinkMessages.Fdb(w, HostChangeKind.Replace, new HostFdbEntry("flannel.1", mac, Ip4.Parse("192.0.2.20")), 4, 2);
        var msgs = NetlinkMessage.Split(w.Written);
        Assert.Equal((4, new HostNeighbour("flannel.1", Ip4.Parse("10.0.5.0"), mac)), RtnetlinkMessages.ParseNeighbour(msgs[0], names));
        Assert.Equal((4, new HostFdbEntry("flannel.1", mac, Ip4.Parse("192.0.2.20"))), RtnetlinkMessages.ParseFdb(msgs[1], names));
        Assert.Equal((ushort)0x80, msgs[1].U16(8)); // NUD_PERMANENT
        Assert.Equal((byte)2, msgs[1].U8(10));       // NTF_SELF
        Assert.Null(RtnetlinkMessages.ParseFdb(msgs[0], names)); // an AF_INET neighbour is not an FDB entry
    }

    [Fact]
    public void An_error_ack_yields_the_errno_and_the_kernels_reason()
    {
        // NLMSG_ERROR, capped, with TLVs: s32 -101, the request's header, then NLMSGERR_ATTR_MSG.
        var text = "Nexthop has invalid gateway\0"u8.ToArray();
        var payload = new byte[4 + 16 + Netlink.Align(4 + text.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(payload, -101);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(20), (ushort)(4 + text.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(22), Netlink.NLMSGERR_ATTR_MSG);
        text.CopyTo(payload.AsSpan(24));
        var ack = NetlinkSocket.ParseAck(new NetlinkMessage(Netlink.NLMSG_ERROR, Netlink.NLM_F_CAPPED | Netlink.NLM_F_ACK_TLVS, 7, payload));
        Assert.Equal(101, ack.Errno);
        Assert.Equal("Nexthop has invalid gateway", ack.KernelMessage);
        Assert.Equal("ENETUNREACH (Network is unreachable); kernel: Nexthop has invalid gateway", ack.Describe());
        Assert.True(NetlinkSocket.ParseAck(new NetlinkMessage(Netlink.NLMSG_ERROR, Netlink.NLM_F_CAPPED, 7, new byte[20])).Succeeded);
    }

    [Fact]
    public void A_message_whose_length_runs_past_the_datagram_is_rejected()
    {
        var w = new NetlinkWriter();
        RtnetlinkMessages.GetLink(w, "eth0", 1);
        var b = w.Written.ToArray();
        Assert.Throws<InvalidDataException>(() => NetlinkMessage.Split(b.AsSpan(0, b.Length - 4)));
    }
}
