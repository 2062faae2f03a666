using System.Net;
using System.Net.Sockets;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Node;

namespace FlannelPS.Core.Tests.Node;

public sealed class NodePreflightTests
{
    private static NetworkConfig Config(string json) => NetworkConfigParser.Parse(json);

    private static FlannelException Fails(Action check) => Assert.Throws<FlannelException>(check);

    [Fact]
    public void A_PublicIP_that_is_not_an_address_has_one_id_and_names_the_value()
    {
        var ex = Fails(() => NodePreflight.CheckSettings(new NodeOptions { PublicIP = "banana" }));
        Assert.Equal("FlannelInvalidPublicIP", ex.ErrorId);
        Assert.Equal("banana", ex.Target);
        Assert.Contains("'banana'", ex.Message);
        Assert.Equal(ex.ErrorId, Fails(() => FlannelNodeFactory.ResolveInterface(new NodeOptions { Interfaces = ["lo"], PublicIP = "banana" }, Diagnostics.NullLog.Instance)).ErrorId);
    }

    [Fact]
    public void A_missing_interface_is_named()
    {
        var ex = Fails(() => NodePreflight.CheckSettings(new NodeOptions { Interfaces = ["nosuch0"] }));
        Assert.Equal("FlannelInterfaceNotFound", ex.ErrorId);
        Assert.Equal("nosuch0", ex.Target);
    }

    [Fact]
    public void Without_interface_or_PublicIP_the_default_route_is_left_to_the_node()
    {
        Assert.Null(NodePreflight.CheckSettings(new NodeOptions()));
    }

    [Fact]
    public void Not_root_is_refused_when_the_backend_is_not_known_yet_or_needs_root()
    {
        var tun = Path.GetTempFileName();
        try
        {
            Assert.Equal("FlannelRootRequired", Fails(() => NodePreflight.Check(new NodeOptions(), null, 1000, tun)).ErrorId);
            Assert.Equal("FlannelRootRequired", Fails(() => NodePreflight.Check(new NodeOptions(), Config("""{"Network":"10.0.0.0/16"}"""), 1000, tun)).ErrorId);
            NodePreflight.Check(new NodeOptions(), Config("""{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}"""), 1000, tun);
        }
        finally { File.Delete(tun); }
    }

    [Fact]
    public void No_tun_device_is_refused_for_udp()
    {
        var ex = Fails(() => NodePreflight.Check(new NodeOptions(), Config("""{"Network":"10.0.0.0/16","Backend":{"Type":"udp"}}"""), 0, "/nonexistent/net/tun"));
        Assert.Equal("FlannelTunUnavailable", ex.ErrorId);
        Assert.Equal("/nonexistent/net/tun", ex.Target);
    }

    [Fact]
    public void A_udp_port_in_use_is_refused_with_the_port_named()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;
        var ex = Fails(() => NodePreflight.EnsureUdpPortFree(Ip4.Parse("127.0.0.1"), port));
        Assert.Equal("FlannelPortInUse", ex.ErrorId);
        Assert.Equal(port, ex.Target);
        holder.Close();
        NodePreflight.EnsureUdpPortFree(Ip4.Parse("127.0.0.1"), port);
    }
}
