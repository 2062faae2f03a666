using FlannelPS.Core.Host;

namespace FlannelPS.Core.Tests.Host;

public class RouteGetParsingTests
{
    [Fact]
    public void TakesTheDeviceAndPreferredSourceOfTheFirstRoute()
    {
        const string json = """[{"dst":"198.51.100.1","gateway":"192.0.2.1","dev":"eth1","prefsrc":"192.0.2.7","flags":[],"uid":0,"cache":[]}]""";
        var (dev, src) = ExternalInterfaceResolver.ParseRouteGet(json);
        Assert.Equal("eth1", dev);
        Assert.Equal("192.0.2.7", src.ToString());
    }

    [Fact]
    public void NoRouteOrNoSourceIsNotAnError()
    {
        Assert.Equal((null, null), ExternalInterfaceResolver.ParseRouteGet("[]"));
        var (dev, src) = ExternalInterfaceResolver.ParseRouteGet("""[{"dst":"192.0.2.9","dev":"veth0"}]""");
        Assert.Equal("veth0", dev);
        Assert.Null(src);
    }
}
