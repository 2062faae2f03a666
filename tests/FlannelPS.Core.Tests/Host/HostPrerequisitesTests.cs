using FlannelPS.Core.Host;

namespace FlannelPS.Core.Tests.Host;

public sealed class HostPrerequisitesTests
{
    [Fact]
    public void Root_with_dev_net_tun_passes() => HostPrerequisites.EnsureRootAndTun(); // the suite runs as root
}
