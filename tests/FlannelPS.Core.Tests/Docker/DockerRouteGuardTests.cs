using FlannelPS.Core.Docker;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Tests.Fakes;

namespace FlannelPS.Core.Tests.Docker;

public sealed class DockerRouteGuardTests
{
    [Theory]
    [InlineData("10.0.72.1/24", "10.0.72.0/24")]
    [InlineData("10.5.3.65/26", "10.5.3.64/26")]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("10.0.72.0/24", null)]
    [InlineData("garbage", null)]
    public void Looks_for_FLANNEL_SUBNET_with_the_last_octet_lowered_by_one(string? flannelSubnet, string? guarded) =>
        Assert.Equal(guarded, DockerRouteGuard.GuardedSubnet(flannelSubnet));

    [Fact]
    public void A_via_route_to_the_subnet_is_the_upstream_error_and_a_device_route_is_not()
    {
        var host = new RecordingHostNetwork();
        host.Routes.Add(new HostRoute(Ip4Net.Parse("0.0.0.0/0"), "eth0", Ip4.Parse("192.0.2.1")));
        host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.0.0/16"), "flannel0", null));
        host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.72.0/24"), "docker0", null));
        host.Routes.Add(new HostRoute(Ip4Net.Parse("110.0.72.0/24"), "eth0", Ip4.Parse("192.0.2.9")));
        Assert.Null(DockerRouteGuard.Check("10.0.72.1/24", host));
        host.Routes.Add(new HostRoute(Ip4Net.Parse("10.0.72.0/24"), "eth0", Ip4.Parse("192.0.2.9")));
        var ex = DockerRouteGuard.Check("10.0.72.1/24", host);
        Assert.NotNull(ex);
        Assert.Equal("FlannelSubnetRouteExists", ex.ErrorId);
        Assert.Equal("Your routing table already contains the subnet: 10.0.72.0/24", ex.Message);
        Assert.Equal("10.0.72.0/24 via 192.0.2.9 dev eth0", ex.Target);
    }
}
