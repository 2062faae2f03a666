// Interface selection against a namespace with a veth pair (both ends inside it).
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Tests.Interop;

namespace FlannelPS.Core.Tests.Host;

public sealed class ExternalInterfaceResolverTests : IDisposable
{
    private readonly TestNamespace _ns = new("ifr");
    private readonly NetnsThread _t;

    public ExternalInterfaceResolverTests()
    {
        _ns.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1").Ok("veth");
        _ns.Ip("link", "set", "eth0", "mtu", "1450").Ok("mtu");
        _ns.Ip("addr", "add", "169.254.9.9/16", "dev", "eth0").Ok("ll");
        _ns.Ip("addr", "add", "192.0.2.5/24", "dev", "eth0").Ok("addr");
        _ns.Ip("addr", "add", "169.254.2.2/16", "dev", "eth1").Ok("ll2");
        _ns.Ip("link", "set", "eth0", "up").Ok("up");
        _ns.Ip("link", "set", "eth1", "up").Ok("up");
        _t = new NetnsThread(_ns.Name);
    }

    public void Dispose()
    {
        _t.Dispose();
        _ns.Dispose();
    }

    [Fact]
    public void Default_route_interface_and_its_global_unicast_address_are_chosen()
    {
        Assert.Throws<FlannelException>(() => _t.Invoke(() => ExternalInterfaceResolver.Resolve(null)));
        _ns.Ip("route", "add", "default", "via", "192.0.2.1", "dev", "eth0").Ok("default route");
        var e = _t.Invoke(() => ExternalInterfaceResolver.Resolve(null));
        Assert.Equal("eth0", e.Name);
        Assert.Equal(Ip4.Parse("192.0.2.5"), e.IfaceAddr); // global unicast wins over the link-local added first
        Assert.Equal(e.IfaceAddr, e.ExtAddr);
        Assert.Equal(1450, e.Mtu);
        Assert.True(e.Index > 1);
    }

    [Fact]
    public void Interface_by_name_or_address_and_public_ip_override()
    {
        var byAddr = _t.Invoke(() => ExternalInterfaceResolver.Resolve("192.0.2.5"));
        Assert.Equal("eth0", byAddr.Name);
        var withPublic = _t.Invoke(() => ExternalInterfaceResolver.Resolve("eth0", Ip4.Parse("198.51.100.7")));
        Assert.Equal(Ip4.Parse("192.0.2.5"), withPublic.IfaceAddr);
        Assert.Equal(Ip4.Parse("198.51.100.7"), withPublic.ExtAddr);
        var linkLocalOnly = _t.Invoke(() => ExternalInterfaceResolver.Resolve("eth1"));
        Assert.Equal(Ip4.Parse("169.254.2.2"), linkLocalOnly.IfaceAddr);
    }

    [Theory]
    [InlineData("nosuch0")]
    [InlineData("192.0.2.99")]
    [InlineData("lo")]
    public void Bad_values_give_an_error_naming_them(string value)
    {
        var ex = Assert.Throws<FlannelException>(() => _t.Invoke(() => ExternalInterfaceResolver.Resolve(value)));
        Assert.Contains(value, ex.Message);
    }

    [Fact]
    public void Loopback_is_refused_because_it_has_no_usable_address()
    {
        // "lo" is in every message ("looking up", "loopback"): the error id and the named interface say which refusal it was.
        var ex = Assert.Throws<FlannelException>(() => _t.Invoke(() => ExternalInterfaceResolver.Resolve("lo")));
        Assert.Equal("FlannelInterfaceNoAddress", ex.ErrorId);
        Assert.Contains("interface lo:", ex.Message);
    }

    [Fact]
    public void Global_unicast_follows_go()
    {
        Assert.True(ExternalInterfaceResolver.IsGlobalUnicast(Ip4.Parse("10.1.2.3")));
        Assert.False(ExternalInterfaceResolver.IsGlobalUnicast(Ip4.Parse("127.0.0.1")));
        Assert.False(ExternalInterfaceResolver.IsGlobalUnicast(Ip4.Parse("169.254.1.1")));
        Assert.False(ExternalInterfaceResolver.IsGlobalUnicast(Ip4.Parse("224.0.0.1")));
        Assert.False(ExternalInterfaceResolver.IsGlobalUnicast(Ip4.Parse("255.255.255.255")));
        Assert.False(ExternalInterfaceResolver.IsGlobalUnicast(Ip4.Parse("0.0.0.0")));
    }
}
