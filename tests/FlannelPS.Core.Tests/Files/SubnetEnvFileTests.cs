using FlannelPS.Core.Files;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Files;

// Linux-only product; the Unix mode APIs are what is under test.

public sealed class SubnetEnvFileTests
{
    [Fact]
    public void RenderIsTheV061FourLineFormatWithFirstAddressOfTheLease()
    {
        var env = new SubnetEnv(Ip4Net.Parse("10.0.0.0/16"), Ip4Net.Parse("10.0.72.0/24"), 1472, true);
        Assert.Equal("FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n", env.Render());
        var noMasq = env with { Subnet = Ip4Net.Parse("10.1.74.0/24"), IpMasq = false };
        Assert.Equal("FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n", noMasq.Render());
    }

    [Fact]
    public void WriteThenReadRoundTripsAndMasksThePreviousSubnet()
    {
        var dir = Directory.CreateTempSubdirectory("fpdk-senv-").FullName;
        try
        {
            var path = Path.Combine(dir, "flannel", "subnet.env");
            SubnetEnvFile.Write(path, new SubnetEnv(Ip4Net.Parse("10.0.0.0/16"), Ip4Net.Parse("10.0.72.0/24"), 1472, true));
            Assert.Equal(AtomicFile.DefaultMode, File.GetUnixFileMode(path));
            var back = SubnetEnvFile.Read(path)!;
            Assert.Equal(Ip4Net.Parse("10.0.72.0/24"), back.PreviousSubnet);
            Assert.Equal(Ip4Net.Parse("10.0.0.0/16"), back.PreviousNetwork);
            Assert.Equal(1472, back.Mtu);
            Assert.True(back.IpMasq);
            Assert.Equal("10.0.72.1/24", back.Values["FLANNEL_SUBNET"]);
            Assert.Null(SubnetEnvFile.Read(Path.Combine(dir, "missing.env")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ParseIsTolerantLikeGodotenv()
    {
        var c = SubnetEnvFile.Parse(
            "# written by hand\r\n\n export FLANNEL_NETWORK=\"10.0.0.0/16\"\nFLANNEL_SUBNET='10.0.9.1/24'\r\n" +
            "FLANNEL_MTU = 1450   # inline comment\nFLANNEL_IPMASQ: false\nnot a line\nEMPTY=\nQ=\"a\\\"b\"\n");
        Assert.Equal(Ip4Net.Parse("10.0.0.0/16"), c.PreviousNetwork);
        Assert.Equal(Ip4Net.Parse("10.0.9.0/24"), c.PreviousSubnet);
        Assert.Equal(1450, c.Mtu);
        Assert.False(c.IpMasq);
        Assert.Equal("", c.Values["EMPTY"]);
        Assert.Equal("a\"b", c.Values["Q"]);
        Assert.False(c.Values.ContainsKey("not a line"));
    }

    [Theory]
    [InlineData("FLANNEL_SUBNET=10.0.72.1/24,10.0.73.1/24\n")]
    [InlineData("FLANNEL_SUBNET=garbage\n")]
    [InlineData("FLANNEL_SUBNET=\n")]
    [InlineData("OTHER=1\n")]
    public void CommaListsAndBadValuesGiveNoPreviousSubnet(string text)
    {
        var c = SubnetEnvFile.Parse(text);
        Assert.Null(c.PreviousSubnet);
        Assert.Null(c.Mtu);
        Assert.Null(c.IpMasq);
    }

    [Fact]
    public void LaterDuplicatesWinAndIpMasqMustBeExactlyTrueOrFalse()
    {
        var c = SubnetEnvFile.Parse("FLANNEL_SUBNET=10.0.1.1/24\nFLANNEL_SUBNET=10.0.2.1/24\nFLANNEL_IPMASQ=yes\n");
        Assert.Equal(Ip4Net.Parse("10.0.2.0/24"), c.PreviousSubnet);
        Assert.Null(c.IpMasq);
    }
}
