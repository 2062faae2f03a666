using FlannelPS.Core.Cli;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Service;

namespace FlannelPS.Core.Tests.Service;

public class ServiceFilesTests
{
    private static FlannelServiceSettings Seed(Func<FlanneldSettings, FlanneldSettings>? change = null) => new()
    {
        BinDirectory = "/opt/FlannelPS/bin",
        Flanneld = (change ?? (s => s))(new FlanneldSettings { EtcdEndpoints = "http://192.0.2.2:2379", IpMasq = true }),
    };

    [Fact]
    public void UnitIsTypeNotifyRestartAlwaysBeforeDockerAndLoadsTheOptionalEnvironmentFile()
    {
        var unit = ServiceFiles.RenderUnit(Seed());
        Assert.StartsWith(ServiceFiles.Marker + "\n[Unit]\n", unit, StringComparison.Ordinal);
        var lines = unit.Split('\n');
        foreach (var expected in new[]
        {
            "Wants=network-online.target", "After=network-online.target etcd.service", "Before=docker.service",
            "[Service]", "Type=notify", "NotifyAccess=all", "EnvironmentFile=-/etc/sysconfig/flanneld",
            "ExecStart=/bin/sh /opt/FlannelPS/bin/flanneld-start $FLANNEL_OPTIONS", "Restart=always",
            "[Install]", "WantedBy=multi-user.target", "RequiredBy=docker.service",
        })
        {
            Assert.Contains(expected, lines);
        }
        Assert.EndsWith("\n", unit, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", unit, StringComparison.Ordinal);
    }

    [Fact]
    public void UnitQuotesAPathWithSpacesAndEscapesSpecifiers()
    {
        var unit = ServiceFiles.RenderUnit(Seed() with { BinDirectory = "/opt/My Modules/100%/bin" });
        Assert.Contains("ExecStart=/bin/sh \"/opt/My Modules/100%%/bin/flanneld-start\" $FLANNEL_OPTIONS\n", unit, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentFileCarriesTheSysconfigNamesAndTheOtherFlagsAsOptions()
    {
        var env = ServiceFiles.RenderEnvironment(Seed(s => s with { Iface = ["eth1"], SubnetLeaseRenewMargin = 30 }));
        Assert.StartsWith(ServiceFiles.Marker + "\n", env, StringComparison.Ordinal);
        var vars = env.Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToArray();
        Assert.Equal(
            [
                "FLANNEL_ETCD_ENDPOINTS=\"http://192.0.2.2:2379\"",
                "FLANNEL_ETCD_PREFIX=\"/coreos.com/network\"",
                "FLANNEL_OPTIONS=\"-iface=eth1 -ip-masq=true -subnet-lease-renew-margin=30\"",
            ],
            vars);
    }

    [Fact]
    public void AdditionalOptionsAreAppendedAndCheckedAsFlanneldWouldParseThem()
    {
        var ok = Seed() with { AdditionalOptions = ["-v=2"] };
        Assert.Contains("FLANNEL_OPTIONS=\"-ip-masq=true -v=2\"", ServiceFiles.RenderEnvironment(ok), StringComparison.Ordinal);

        var unknown = Assert.Throws<FlannelException>(() => ServiceFiles.RenderEnvironment(Seed() with { AdditionalOptions = ["-kube-subnet-mgr"] }));
        Assert.Equal("FlannelServiceInvalidOption", unknown.ErrorId);
        Assert.Contains("flag -kube-subnet-mgr is a flanneld flag that is not supported by FlannelPS", unknown.Message, StringComparison.Ordinal);

        var margin = Assert.Throws<FlannelException>(() => ServiceFiles.RenderEnvironment(Seed(s => s with { SubnetLeaseRenewMargin = 1440 })));
        Assert.Contains(FlanneldCommandLine.RenewMarginError, margin.Message, StringComparison.Ordinal);

        Assert.Throws<FlannelException>(() => ServiceFiles.RenderEnvironment(Seed() with { AdditionalOptions = ["--version"] }));
    }

    [Theory]
    [InlineData("http://192.0.2.2:2379 http://x")]
    [InlineData("http://192.0.2.2:2379\"")]
    [InlineData("http://$HOST:2379")]
    public void ValuesTheFilesCannotCarryAreRefused(string endpoints)
    {
        var ex = Assert.Throws<FlannelException>(() => ServiceFiles.RenderEnvironment(Seed(s => s with { EtcdEndpoints = endpoints })));
        Assert.Equal("FlannelServiceInvalidValue", ex.ErrorId);
    }

    [Fact]
    public void AnInterfaceWithASpaceIsRefusedBecauseSystemdSplitsOptionsAtWhitespace()
    {
        var ex = Assert.Throws<FlannelException>(() => ServiceFiles.RenderEnvironment(Seed(s => s with { Iface = ["my if"] })));
        Assert.Equal("FlannelServiceInvalidValue", ex.ErrorId);
    }
}
