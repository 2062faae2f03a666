using FlannelPS.Core.Docker;
using FlannelPS.Core.Files;

namespace FlannelPS.Core.Tests.Docker;

// Every combination of mk-docker-opts switches that matters, byte for byte: the expected bytes are
// what upstream's mk-docker-opts.sh writes when run under dash.
public sealed class DockerOptionsTests
{
    private static readonly IReadOnlyDictionary<string, string> Seed =
        EnvFile.Parse("FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n");

    private static string Render(IReadOnlyDictionary<string, string>? env, DockerOptionsSettings s, string? current = null) =>
        DockerOptions.Render(env, s, current is null ? null : new Dictionary<string, string> { [s.Key] = current }).Content;

    private static string RenderIn(IReadOnlyDictionary<string, string>? env, DockerOptionsSettings s, params (string Name, string Value)[] environment) =>
        DockerOptions.Render(env, s, environment.ToDictionary(e => e.Name, e => e.Value)).Content;

    [Fact]
    public void SeedCombinedStartsWithASpaceAndInvertsIpMasq() =>
        Assert.Equal("DOCKER_OPTS=\" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472\"\n", Render(Seed, new(Combined: true)));

    [Fact]
    public void NeitherFlagMeansBothInAlphabeticalOrder() =>
        Assert.Equal(
            "DOCKER_OPT_BIP=\"--bip=10.0.72.1/24\"\nDOCKER_OPT_IPMASQ=\"--ip-masq=false\"\nDOCKER_OPT_MTU=\"--mtu=1472\"\n" +
            "DOCKER_OPTS=\" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472\"\n",
            Render(Seed, new()));

    [Fact]
    public void BothFlagsEqualsNeither() => Assert.Equal(Render(Seed, new()), Render(Seed, new(Combined: true, Individual: true)));

    [Fact]
    public void IndividualOnly() =>
        Assert.Equal("DOCKER_OPT_BIP=\"--bip=10.0.72.1/24\"\nDOCKER_OPT_IPMASQ=\"--ip-masq=false\"\nDOCKER_OPT_MTU=\"--mtu=1472\"\n",
            Render(Seed, new(Individual: true)));

    [Fact]
    public void NoIpMasqLeavesItOut() =>
        Assert.Equal("DOCKER_OPTS=\" --bip=10.0.72.1/24 --mtu=1472\"\n", Render(Seed, new(Combined: true, NoIpMasq: true)));

    [Fact]
    public void CustomKey() =>
        Assert.Equal("CUSTOM=\" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472\"\n", Render(Seed, new(Combined: true, Key: "CUSTOM")));

    [Fact]
    public void ValueAlreadyInEnvironmentGivesTwoSpaces() =>
        Assert.Equal("DOCKER_OPTS=\"--foo  --bip=10.0.72.1/24 --ip-masq=false --mtu=1472\"\n", Render(Seed, new(Combined: true), "--foo"));

    [Fact]
    public void EmptyEnvironmentValueIsIgnored() =>
        Assert.Equal(Render(Seed, new(Combined: true)), Render(Seed, new(Combined: true), ""));

    [Fact]
    public void MissingSubnetFileGivesEmptyOptions()
    {
        Assert.Equal("DOCKER_OPTS=\"\"\n", Render(null, new()));
        Assert.Equal("", Render(null, new(Individual: true)));
        Assert.Equal("DOCKER_OPTS=\"--foo \"\n", Render(null, new(Combined: true), "--foo"));
    }

    [Fact]
    public void UpstreamSampleSubnetEnvWithIpMasqFalse()
    {
        var sample = EnvFile.Parse("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
        Assert.Equal("DOCKER_OPTS=\" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n", Render(sample, new(Combined: true)));
    }

    [Fact]
    public void InvalidIpMasqThrowsUpstreamTextUnlessMIsGiven()
    {
        var bad = EnvFile.Parse("FLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=yes\n");
        var ex = Assert.Throws<InvalidIpMasqException>(() => Render(bad, new()));
        Assert.Equal("Invalid value of FLANNEL_IPMASQ: yes", ex.Message);
        Assert.Equal("FlannelInvalidIpMasq", ex.ErrorId);
        Assert.Equal("DOCKER_OPTS=\" --bip=10.0.72.1/24 --mtu=1472\"\n", Render(bad, new(Combined: true, NoIpMasq: true)));
    }

    [Fact]
    public void EmptyValuesCountAsUnset() =>
        Assert.Equal("DOCKER_OPTS=\" --mtu=1472\"\n", Render(EnvFile.Parse("FLANNEL_SUBNET=\nFLANNEL_IPMASQ=\nFLANNEL_MTU=1472\n"), new(Combined: true)));

    [Fact]
    public void SourcedFileDefinesExtraOptionsAndTheKeyLikeTheShellDoes()
    {
        var env = EnvFile.Parse("FLANNEL_SUBNET=10.0.72.1/24\nDOCKER_OPT_AAA=--aaa\nDOCKER_OPTS=--fromfile\n");
        Assert.Equal("DOCKER_OPT_AAA=\"--aaa\"\nDOCKER_OPT_BIP=\"--bip=10.0.72.1/24\"\nDOCKER_OPTS=\"--fromfile  --aaa --bip=10.0.72.1/24\"\n",
            Render(env, new(), "--ignored"));
    }

    // The script builds its options from its shell variables, and those include the environment it
    // was started with: `DOCKER_OPT_DNS=--dns=1.1.1.1 mk-docker-opts.sh -c` under dash.
    [Fact]
    public void EnvironmentDockerOptJoinsTheCombinedValueInSetOrder() =>
        Assert.Equal("DOCKER_OPTS=\" --bip=10.0.72.1/24 --dns=1.1.1.1 --ip-masq=false --mtu=1472\"\n",
            RenderIn(Seed, new(Combined: true), ("DOCKER_OPT_DNS", "--dns=1.1.1.1")));

    [Fact]
    public void EnvironmentDockerOptIsAlsoWrittenAsItsOwnLine() =>
        Assert.Equal(
            "DOCKER_OPT_BIP=\"--bip=10.0.72.1/24\"\nDOCKER_OPT_DNS=\"--dns=1.1.1.1\"\nDOCKER_OPT_IPMASQ=\"--ip-masq=false\"\nDOCKER_OPT_MTU=\"--mtu=1472\"\n" +
            "DOCKER_OPTS=\" --bip=10.0.72.1/24 --dns=1.1.1.1 --ip-masq=false --mtu=1472\"\n",
            RenderIn(Seed, new(), ("DOCKER_OPT_DNS", "--dns=1.1.1.1"), ("PATH", "/usr/bin"), ("XDOCKER_OPT_NOT", "x")));

    [Fact]
    public void ComputedOptionsReplaceTheEnvironmentsAndAnEmptyOneStillCounts() =>
        Assert.Equal(
            "DOCKER_OPT_A=\"\"\nDOCKER_OPT_BIP=\"--bip=10.0.72.1/24\"\nDOCKER_OPT_IPMASQ=\"--ip-masq=false\"\nDOCKER_OPT_MTU=\"--mtu=1472\"\n" +
            "DOCKER_OPTS=\"  --bip=10.0.72.1/24 --ip-masq=false --mtu=1472\"\n",
            RenderIn(Seed, new(), ("DOCKER_OPT_BIP", "--bip=9.9.9.9/24"), ("DOCKER_OPT_A", "")));

    [Fact]
    public void WithoutASubnetFileTheEnvironmentsOptionsAndFlannelValuesStillCount()
    {
        Assert.Equal("DOCKER_OPT_BIP=\"--bip=9.9.9.9/24\"\nDOCKER_OPTS=\" --bip=9.9.9.9/24\"\n",
            RenderIn(null, new(), ("DOCKER_OPT_BIP", "--bip=9.9.9.9/24")));
        Assert.Equal("DOCKER_OPT_BIP=\"--bip=10.9.9.1/24\"\nDOCKER_OPT_IPMASQ=\"--ip-masq=true\"\nDOCKER_OPTS=\" --bip=10.9.9.1/24 --ip-masq=true\"\n",
            RenderIn(null, new(), ("FLANNEL_SUBNET", "10.9.9.1/24"), ("FLANNEL_IPMASQ", "false")));
    }

    [Fact]
    public void SubnetEnvWinsOverTheEnvironment()
    {
        Assert.Equal("DOCKER_OPTS=\" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472\"\n",
            RenderIn(Seed, new(Combined: true), ("FLANNEL_MTU", "1400")));
        var file = EnvFile.Parse("FLANNEL_SUBNET=10.0.72.1/24\nDOCKER_OPT_DNS=--dns=8.8.8.8\n");
        Assert.Equal("DOCKER_OPTS=\" --bip=10.0.72.1/24 --dns=8.8.8.8\"\n", RenderIn(file, new(Combined: true), ("DOCKER_OPT_DNS", "--dns=1.1.1.1")));
        Assert.Equal("10.0.72.1/24", DockerOptions.Render(file, new(), new Dictionary<string, string> { ["FLANNEL_SUBNET"] = "10.1.1.1/24" }).FlannelSubnet);
    }

    [Fact]
    public void OptionsSortBytewiseByNameAndNamesNoShellCanHoldAreLeftOut() =>
        Assert.Equal("DOCKER_OPT_=\"4\"\nDOCKER_OPT_1=\"3\"\nDOCKER_OPT_Z=\"1\"\nDOCKER_OPT_a=\"2\"\nDOCKER_OPTS=\" 4 3 1 2\"\n",
            RenderIn(null, new(), ("DOCKER_OPT_Z", "1"), ("DOCKER_OPT_a", "2"), ("DOCKER_OPT_1", "3"), ("DOCKER_OPT_", "4"), ("DOCKER_OPT_A-B", "x")));

    [Fact]
    public void PartsAreExposedForPassThru()
    {
        var r = DockerOptions.Render(Seed, new(), null);
        Assert.Equal("10.0.72.1/24", r.FlannelSubnet);
        Assert.Equal("--bip=10.0.72.1/24", r.Bip);
        Assert.Equal("--mtu=1472", r.Mtu);
        Assert.Equal("--ip-masq=false", r.IpMasq);
        Assert.Equal(" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472", r.Combined);
        Assert.Equal(["DOCKER_OPT_BIP", "DOCKER_OPT_IPMASQ", "DOCKER_OPT_MTU"], r.Individual.Keys);
    }

    [Fact]
    public void ExportWritesNothingOnInvalidIpMasq()
    {
        var dir = Directory.CreateTempSubdirectory("fpdk-opts-").FullName;
        try
        {
            var subnet = Path.Combine(dir, "subnet.env");
            var output = Path.Combine(dir, "docker_opts.env");
            File.WriteAllText(subnet, "FLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_IPMASQ=maybe\n");
            File.WriteAllText(output, "PREVIOUS\n");
            Assert.Throws<InvalidIpMasqException>(() => DockerOptions.Export(subnet, output, new(), null));
            Assert.Equal("PREVIOUS\n", File.ReadAllText(output));
            File.WriteAllText(subnet, "FLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_IPMASQ=true\n");
            var r = DockerOptions.Export(subnet, output, new(Combined: true), null);
            Assert.Equal("DOCKER_OPTS=\" --bip=10.0.72.1/24 --ip-masq=false\"\n", File.ReadAllText(output));
            Assert.True(r.SubnetFileFound);
            Assert.Equal(output, r.Path);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("")]
    [InlineData("1ABC")]
    [InlineData("A-B")]
    [InlineData("A B")]
    public void BadKeyIsRejectedNamingTheValue(string key)
    {
        var ex = Assert.Throws<FlannelPS.Core.Errors.FlannelException>(() => Render(Seed, new(Key: key)));
        Assert.Equal("FlannelInvalidDockerOptionsKey", ex.ErrorId);
        Assert.Contains($"'{key}'", ex.Message);
    }
}
