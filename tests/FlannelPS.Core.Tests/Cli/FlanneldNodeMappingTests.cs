using FlannelPS.Core.Cli;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Registry;

namespace FlannelPS.Core.Tests.Cli;

public class FlanneldNodeMappingTests
{
    [Fact]
    public void EveryNodeFlagReachesTheNodeOptions()
    {
        var parsed = FlanneldCommandLine.Parse(
        [
            "--iface=eth1", "--iface=192.0.2.7", "--iface-regex=^en", "--iface-can-reach=198.51.100.1", "--public-ip=198.51.100.7",
            "--ip-masq", "--subnet-file=/run/x.env", "--subnet-lease-renew-margin=30", "--iptables-resync=9",
            "--iptables-forward-rules=false", "--healthz-ip=0.0.0.0", "--healthz-port=8471",
        ], _ => null).Settings!;
        var node = FlanneldNodeMapping.ToNodeOptions(parsed);
        Assert.Equal(["eth1", "192.0.2.7"], node.Interfaces);
        Assert.Equal(["^en"], node.InterfaceRegexes);
        Assert.Equal("198.51.100.1", node.InterfaceCanReach);
        Assert.Equal("198.51.100.7", node.PublicIP);
        Assert.True(node.IpMasq);
        Assert.Equal("/run/x.env", node.SubnetFile);
        Assert.Equal(TimeSpan.FromMinutes(30), node.RenewMargin);
        Assert.Equal(TimeSpan.FromSeconds(9), node.IptablesResync);
        Assert.False(node.IptablesForwardRules);
        Assert.Equal("0.0.0.0:8471", node.HealthzEndpoint!.ToString());
    }

    [Fact]
    public void DefaultsAreFlanneldsAndHealthzOffAtPortZero()
    {
        var node = FlanneldNodeMapping.ToNodeOptions(new FlanneldSettings());
        Assert.Empty(node.Interfaces);
        Assert.Null(node.HealthzEndpoint);
        Assert.Equal(TimeSpan.FromMinutes(60), node.RenewMargin);
        Assert.True(node.IptablesForwardRules);
        Assert.Equal("/run/flannel/subnet.env", node.SubnetFile);
    }

    [Fact]
    public void HealthzListensOnEveryAddressWhenOnlyThePortIsGiven() =>
        Assert.Equal("0.0.0.0:8471", FlanneldNodeMapping.ToNodeOptions(new FlanneldSettings { HealthzPort = 8471 }).HealthzEndpoint!.ToString());

    [Fact]
    public void BadValuesAreRefusedWithTheValueNamed()
    {
        var margin = Assert.Throws<FlannelException>(() => FlanneldNodeMapping.ToNodeOptions(new FlanneldSettings { SubnetLeaseRenewMargin = 0 }));
        Assert.Equal(FlanneldCommandLine.RenewMarginError, margin.Message);
        var ip = Assert.Throws<FlannelException>(() => FlanneldNodeMapping.ToNodeOptions(new FlanneldSettings { HealthzPort = 1, HealthzIP = "banana" }));
        Assert.Contains("'banana'", ip.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EtcdSettingsRoundTripThroughTheEtcdOptions()
    {
        var etcd = new EtcdOptions { Endpoints = ["http://192.0.2.2:2379", "http://192.0.2.3:2379"], Prefix = "/atomic.io/network", CAFile = "/ca.pem", Username = "u", Password = "p" };
        var settings = new FlanneldSettings().WithEtcd(etcd);
        Assert.Equal("http://192.0.2.2:2379,http://192.0.2.3:2379", settings.EtcdEndpoints);
        var back = FlanneldNodeMapping.ToEtcdOptions(settings);
        Assert.Equal(etcd.Endpoints, back.Endpoints);
        Assert.Equal(etcd.Prefix, back.Prefix);
        Assert.Equal("/ca.pem", back.CAFile);
        Assert.Null(back.CertFile);
        Assert.Equal(("u", "p"), (back.Username, back.Password));
        // The flags Install-FlannelService writes parse back to the same settings.
        var reparsed = FlanneldCommandLine.Parse(FlanneldCommandLine.Format(settings with { IpMasq = true }), _ => null).Settings!;
        Assert.Equal(settings with { IpMasq = true }, reparsed with { Iface = settings.Iface, IfaceRegex = settings.IfaceRegex });
    }
}
