using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Tests.Host;

public class HostPrerequisitesTests
{
    [Fact]
    public void NonRootIsRefusedNamingTheUidAndTheWayOut()
    {
        var ex = Assert.Throws<FlannelException>(() => HostPrerequisites.EnsureRootAndTun("udp", 1000, HostPrerequisites.TunDevicePath));
        Assert.Equal("FlannelRootRequired", ex.ErrorId);
        Assert.Equal(FlannelErrorCategory.PermissionDenied, ex.Category);
        Assert.Contains("effective uid is 1000", ex.Message);
        Assert.Contains("alloc backend", ex.Message);
    }

    [Fact]
    public void MissingTunDeviceIsNamed()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-tun-" + Guid.NewGuid().ToString("n"));
        var ex = Assert.Throws<FlannelException>(() => HostPrerequisites.EnsureRootAndTun("udp", 0, missing));
        Assert.Equal("FlannelTunUnavailable", ex.ErrorId);
        Assert.StartsWith(missing + " is missing", ex.Message);
        Assert.Contains("modprobe tun", ex.Message);
    }

    [Fact]
    public void RootWithTheDevicePasses() =>
        HostPrerequisites.EnsureRootAndTun("udp", 0, HostPrerequisites.TunDevicePath);
}
