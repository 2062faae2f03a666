using FlannelPS.Core.Cli;

namespace FlannelPS.Core.Tests.Cli;

public class FlanneldCommandLineTests
{
    private static readonly Func<string, string?> NoEnv = _ => null;

    [Fact]
    public void SeedLineParses()
    {
        var r = FlanneldCommandLine.Parse(["--etcd-endpoints=http://192.0.2.2:2379", "--ip-masq=true"], NoEnv);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("http://192.0.2.2:2379", r.Settings!.EtcdEndpoints);
        Assert.True(r.Settings.IpMasq);
        Assert.Equal("/run/flannel/subnet.env", r.Settings.SubnetFile);
        Assert.Equal(60, r.Settings.SubnetLeaseRenewMargin);
        Assert.True(r.Settings.IptablesForwardRules);
    }

    [Fact]
    public void SingleAndDoubleDashSeparateValuesAndBareBooleans()
    {
        var r = FlanneldCommandLine.Parse(["-etcd-prefix", "/atomic.io/network", "--iface", "eth1", "-iface=192.0.2.7", "-ip-masq", "--subnet-lease-renew-margin", "30"], NoEnv);
        Assert.Equal("/atomic.io/network", r.Settings!.EtcdPrefix);
        Assert.Equal(["eth1", "192.0.2.7"], r.Settings.Iface);
        Assert.True(r.Settings.IpMasq);
        Assert.Equal(30, r.Settings.SubnetLeaseRenewMargin);
    }

    [Fact]
    public void BooleanWithSeparateValueStopsFlagParsingAsInGo()
    {
        // Go's flag package: "--ip-masq true" sets ip-masq and treats "true" as the first positional
        // argument, so the flags after it are never parsed.
        var r = FlanneldCommandLine.Parse(["--ip-masq", "true", "--subnet-file=/tmp/x"], NoEnv);
        Assert.True(r.Settings!.IpMasq);
        Assert.Equal("/run/flannel/subnet.env", r.Settings.SubnetFile);
    }

    [Fact]
    public void EnvironmentFillsFlagsNotGivenAndCommandLineWins()
    {
        var env = new Dictionary<string, string>
        {
            ["FLANNELD_ETCD_ENDPOINTS"] = "http://198.51.100.1:2379",
            ["FLANNELD_ETCD_PREFIX"] = "/env/network",
            ["FLANNELD_IP_MASQ"] = "true",
            ["FLANNELD_SUBNET_LEASE_RENEW_MARGIN"] = "90",
            ["FLANNELD_IPTABLES_FORWARD_RULES"] = "false",
        };
        var r = FlanneldCommandLine.Parse(["--etcd-prefix=/cli/network"], n => env.GetValueOrDefault(n));
        Assert.Equal("http://198.51.100.1:2379", r.Settings!.EtcdEndpoints);
        Assert.Equal("/cli/network", r.Settings.EtcdPrefix);
        Assert.True(r.Settings.IpMasq);
        Assert.Equal(90, r.Settings.SubnetLeaseRenewMargin);
        Assert.False(r.Settings.IptablesForwardRules);
    }

    [Theory]
    [InlineData("--subnet-lease-renew-margin=0")]
    [InlineData("--subnet-lease-renew-margin=1440")]
    public void RenewMarginOutOfRangeExitsOneWithFlannelsText(string arg)
    {
        var r = FlanneldCommandLine.Parse([arg], NoEnv);
        Assert.Null(r.Settings);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("Invalid subnet-lease-renew-margin option, out of acceptable range", r.Message);
    }

    [Fact]
    public void UnknownFlagExitsTwo()
    {
        var r = FlanneldCommandLine.Parse(["--kube-subnet-mgr"], NoEnv);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("flag provided but not defined: -kube-subnet-mgr", r.Message);
    }

    [Fact]
    public void BadValueAndMissingValueExitTwo()
    {
        Assert.Equal(2, FlanneldCommandLine.Parse(["--healthz-port=abc"], NoEnv).ExitCode);
        Assert.Equal(2, FlanneldCommandLine.Parse(["--ip-masq=maybe"], NoEnv).ExitCode);
        Assert.Equal(2, FlanneldCommandLine.Parse(["--subnet-file"], NoEnv).ExitCode);
    }

    [Fact]
    public void VersionAndHelp()
    {
        Assert.True(FlanneldCommandLine.Parse(["--version"], NoEnv).Settings!.Version);
        var help = FlanneldCommandLine.Parse(["-h"], NoEnv);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("-etcd-endpoints string", help.Message);
    }
}
