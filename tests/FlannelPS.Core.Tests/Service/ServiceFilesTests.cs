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
    [InlineData("http://192.0.2.2:2379\thttp://x")]
    [InlineData("http://192.0.2.2:2379\nFLANNEL_OPTIONS=-v=9")]
    public void ValuesTheFilesCannotCarryAreRefused(string endpoints)
    {
        var ex = Assert.Throws<FlannelException>(() => ServiceFiles.RenderEnvironment(Seed(s => s with { EtcdEndpoints = endpoints })));
        Assert.Equal("FlannelServiceInvalidValue", ex.ErrorId);
        Assert.Contains("control characters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWordOfTheOptionsIsEscapedForTheSplitThenTheValueForTheFile()
    {
        // ^eth1$: the split wants \$, and the file's double quotes want each of \ and $ escaped again.
        var env = ServiceFiles.RenderEnvironment(Seed(s => s with { IfaceRegex = ["^eth1$", @"^en\w+"], EtcdPrefix = "/a\"b`c$" }));
        Assert.Contains("FLANNEL_ETCD_PREFIX=\"/a\\\"b\\`c\\$\"\n", env, StringComparison.Ordinal);
        Assert.Contains(@"FLANNEL_OPTIONS=""-iface-regex=^eth1\\\$ -iface-regex=^en\\\\w+ -ip-masq=true""", env, StringComparison.Ordinal);
    }

    [Fact]
    public void ShReadsEveryValueAndWordBackExactly()
    {
        // The manual start's way (sourcing the file, then eval to split FLANNEL_OPTIONS, which is what
        // systemd's $FLANNEL_OPTIONS does; tests/pester/Service.Tests.ps1 checks systemd itself).
        string[] regexes = ["^eth1$", @"^en\w+\d$", "^(eth|en)[0-9]+$", "a\"b`c$(x)'y;z|w&v", "#x ~y *z? {a} !b", @"\t\n\x41"];
        const string prefix = @"/odd\$prefix""`";
        var env = ServiceFiles.RenderEnvironment(Seed(s => s with { IfaceRegex = regexes, EtcdPrefix = prefix, SubnetFile = "/run/my flannel/subnet.env" }));
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, env);
            var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in (string[])["-c", "set -a; . \"$0\"; eval \"set -- $FLANNEL_OPTIONS\"; printf '%s\\n' \"$FLANNEL_ETCD_PREFIX\" \"$@\"", file]) psi.ArgumentList.Add(a);
            using var sh = System.Diagnostics.Process.Start(psi)!;
            var lines = sh.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            sh.WaitForExit();
            Assert.Equal(0, sh.ExitCode);
            Assert.Equal([prefix, .. regexes.Select(r => "-iface-regex=" + r), "-ip-masq=true", "-subnet-file=/run/my flannel/subnet.env"], lines);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void AnOptionWithANewlineIsRefused()
    {
        var ex = Assert.Throws<FlannelException>(() => ServiceFiles.RenderEnvironment(Seed(s => s with { Iface = ["eth0\n-v=9"] })));
        Assert.Equal("FlannelServiceInvalidValue", ex.ErrorId);
    }
}
