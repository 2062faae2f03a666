using FlannelPS.Core.Cli;

namespace FlannelPS.Core.Tests.Cli;

public class FlanneldFormatTests
{
    [Fact]
    public void DefaultsFormatToNoFlags()
    {
        Assert.Empty(FlanneldCommandLine.Format(new FlanneldSettings()));
    }

    [Fact]
    public void EveryNonDefaultValueRoundTripsThroughTheParser()
    {
        var settings = new FlanneldSettings
        {
            EtcdEndpoints = "http://192.0.2.2:2379,http://192.0.2.3:2379",
            EtcdPrefix = "/atomic.io/network",
            EtcdKeyFile = "/etc/k.pem",
            EtcdCertFile = "/etc/c.pem",
            EtcdCAFile = "/etc/ca.pem",
            EtcdUsername = "flannel",
            EtcdPassword = "s3cret",
            Iface = ["eth1", "192.0.2.7"],
            PublicIP = "198.51.100.4",
            IpMasq = true,
            SubnetFile = "/run/x/subnet.env",
            SubnetLeaseRenewMargin = 30,
            IptablesResync = 9,
            IptablesForwardRules = false,
            HealthzIP = "0.0.0.0",
            HealthzPort = 8471,
        };
        var words = FlanneldCommandLine.Format(settings);
        var back = FlanneldCommandLine.Parse(words, _ => null);
        Assert.Equal(0, back.ExitCode);
        Assert.Equal(settings with { Iface = [] }, back.Settings! with { Iface = [] });
        Assert.Equal(settings.Iface, back.Settings!.Iface);
        Assert.Contains("-iptables-forward-rules=false", words);
        Assert.Contains("-ip-masq=true", words);
    }

    [Fact]
    public void EtcdLocationCanBeLeftToItsOwnVariables()
    {
        var words = FlanneldCommandLine.Format(new FlanneldSettings { EtcdEndpoints = "http://192.0.2.2:2379", EtcdPrefix = "/p", IpMasq = true }, includeEtcdLocation: false);
        Assert.Equal(["-ip-masq=true"], words);
    }

    [Fact]
    public void CommandLineWinsOverFlanneldEnvironment()
    {
        var env = new Dictionary<string, string>
        {
            ["FLANNELD_SUBNET_FILE"] = "/env/subnet.env",
            ["FLANNELD_IP_MASQ"] = "true",
            ["FLANNELD_IFACE"] = "eth7, eth8",
        };
        var r = FlanneldCommandLine.Parse(["--subnet-file=/cli/subnet.env"], n => env.GetValueOrDefault(n));
        Assert.Equal("/cli/subnet.env", r.Settings!.SubnetFile);
        Assert.True(r.Settings.IpMasq);
        Assert.Equal(["eth7", "eth8"], r.Settings.Iface);
    }
}
