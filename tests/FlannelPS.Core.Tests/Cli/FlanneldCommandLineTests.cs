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
        var r = FlanneldCommandLine.Parse(["--no-such-flag"], NoEnv);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("flag provided but not defined: -no-such-flag\n", r.Message);
    }

    [Theory]
    [InlineData("--kube-subnet-mgr")]
    [InlineData("-public-ipv6=2001:db8::1")]
    [InlineData("--net-config-path=/x")]
    public void RealFlanneldFlagsFlannelPSLacksSaySoAndExitTwo(string arg)
    {
        var r = FlanneldCommandLine.Parse([arg], NoEnv);
        Assert.Equal(2, r.ExitCode);
        var name = arg.TrimStart('-').Split('=')[0];
        Assert.StartsWith($"flag -{name} is a flanneld flag that is not supported by FlannelPS\n", r.Message);
    }

    [Fact]
    public void IfaceRegexRepeatsAndIfaceCanReachIsOneValue()
    {
        var s = FlanneldCommandLine.Parse(["--iface-regex=^eth", "-iface-regex", "192\\.0\\.2\\..*", "--iface-can-reach=192.0.2.1"], NoEnv).Settings!;
        Assert.Equal(["^eth", "192\\.0\\.2\\..*"], s.IfaceRegex);
        Assert.Equal("192.0.2.1", s.IfaceCanReach);
        // A regex from the environment is one value: commas belong to it ({1,3}).
        var env = FlanneldCommandLine.Parse([], n => n == "FLANNELD_IFACE_REGEX" ? "^en[a-z]{1,3}0$" : null).Settings!;
        Assert.Equal(["^en[a-z]{1,3}0$"], env.IfaceRegex);
        Assert.Equal(["-iface-regex=^eth", "-iface-regex=192\\.0\\.2\\..*", "-iface-can-reach=192.0.2.1"], FlanneldCommandLine.Format(s));
    }

    [Fact]
    public void HelpPrintsFlagsSortedWithTypesAndNonZeroDefaultsAsGosFlagPackageDoes()
    {
        var help = FlanneldCommandLine.Usage();
        // Texts as flanneld v0.20.2 prints them for the flags both have.
        Assert.Contains("  -etcd-endpoints string\n    \ta comma-delimited list of etcd endpoints (default \"http://127.0.0.1:4001,http://127.0.0.1:2379\")\n", help);
        Assert.Contains("  -etcd-prefix string\n    \tetcd prefix (default \"/coreos.com/network\")\n", help);
        Assert.Contains("  -ip-masq\n    \tsetup IP masquerade rule for traffic destined outside of overlay network\n", help);
        Assert.Contains("  -iptables-forward-rules\n    \tadd default accept rules to FORWARD chain in iptables (default true)\n", help);
        Assert.Contains("  -iptables-resync int\n    \tresync period for iptables rules, in seconds (default 5)\n", help);
        Assert.Contains("  -healthz-port int\n    \tthe port for healthz server to listen(0 to disable)\n", help);
        Assert.Contains("  -subnet-lease-renew-margin int\n    \tsubnet lease renewal margin, in minutes, ranging from 1 to 1439 (default 60)\n", help);
        Assert.Contains("  -iface value\n    \tinterface to use (IP or name) for inter-host communication.", help);
        Assert.Contains("  -iface-regex value\n", help);
        Assert.Contains("  -iface-can-reach string\n", help);
        Assert.Contains("  -healthz-ip string\n    \tthe IP address for healthz server to listen (default \"0.0.0.0\")\n", help);
        Assert.DoesNotContain("(default 0)", help);
        Assert.DoesNotContain("(default false)", help);
        var names = help.Split('\n').Where(l => l.StartsWith("  -", StringComparison.Ordinal)).Select(l => l[3..].Split(' ')[0]).ToArray();
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), names);
        Assert.Contains("-kube-subnet-mgr", help.Split('\n')[^2]);
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
