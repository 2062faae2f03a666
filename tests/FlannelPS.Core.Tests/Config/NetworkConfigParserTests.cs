using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Config;

public class NetworkConfigParserTests
{
    [Fact]
    public void SeedConfigWithOddCaseKeyGetsHeadDefaults()
    {
        var c = NetworkConfigParser.Parse("{\"NetWork\":\"10.0.0.0/16\"}");
        Assert.Equal("10.0.0.0/16", c.Network.ToString());
        Assert.Equal(24, c.SubnetLen);
        Assert.Equal("10.0.1.0", c.SubnetMin.ToString());
        Assert.Equal("10.0.255.0", c.SubnetMax.ToString());
        Assert.Equal("udp", c.BackendType);
        Assert.Null(c.BackendJson);
        Assert.Equal(255, c.SubnetCount);
    }

    [Theory]
    [InlineData("10.0.0.0/8", 24, "10.0.1.0", "10.255.255.0")]
    [InlineData("10.0.0.0/22", 24, "10.0.1.0", "10.0.3.0")]
    [InlineData("10.0.0.0/23", 25, "10.0.0.128", "10.0.1.128")]
    [InlineData("10.0.0.0/24", 26, "10.0.0.64", "10.0.0.192")]
    [InlineData("10.0.0.0/28", 30, "10.0.0.4", "10.0.0.12")]
    public void DefaultsFollowHeadTable(string network, int len, string min, string max)
    {
        var c = NetworkConfigParser.Parse($"{{\"Network\":\"{network}\"}}");
        Assert.Equal(len, c.SubnetLen);
        Assert.Equal(min, c.SubnetMin.ToString());
        Assert.Equal(max, c.SubnetMax.ToString());
    }

    [Fact]
    public void HostBitsAreMaskedAndLastDuplicateWins()
    {
        Assert.Equal("10.0.0.0/16", NetworkConfigParser.Parse("{\"Network\":\"10.0.5.0/16\"}").Network.ToString());
        Assert.Equal("10.1.0.0/16", NetworkConfigParser.Parse("{\"Network\":\"10.0.0.0/16\",\"network\":\"10.1.0.0/16\"}").Network.ToString());
        var c = NetworkConfigParser.Parse("{\"network\":\"10.0.0.0/16\",\"subnetlen\":20,\"Unknown\":[1,2]}");
        Assert.Equal(20, c.SubnetLen);
    }

    [Theory]
    [InlineData("{\"Backend\":{\"Type\":\"VXLAN\"},\"Network\":\"10.0.0.0/16\"}", "vxlan")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"type\":\"udp\",\"Port\":9000}}", "udp")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"alloc\"}}", "alloc")]
    public void BackendTypeIsLowerCased(string json, string type) =>
        Assert.Equal(type, NetworkConfigParser.Parse(json).BackendType);

    [Theory]
    [InlineData("{}", "please define a correct Network parameter in the flannel config")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":31}", "SubnetLen must be less than /31")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":17}", "network must be able to accommodate at least four subnets")]
    [InlineData("{\"Network\":\"10.0.0.0/29\"}", "network is too small. Minimum useful network prefix is /28")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"SubnetMin\":\"10.1.0.0\"}", "SubnetMin is not in the range of the Network")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"SubnetMax\":\"10.1.0.0\"}", "SubnetMax is not in the range of the Network")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"SubnetMin\":\"10.0.1.5\"}", "SubnetMin is not on a SubnetLen boundary: 10.0.1.5")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"SubnetMax\":\"10.0.9.128\"}", "SubnetMax is not on a SubnetLen boundary: 10.0.9.128")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":\"24\"}", "json: cannot unmarshal string into Go struct field Config.SubnetLen of type uint")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"Backend\":{}}", "unknown backend type: ")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"bogus\"}}", "unknown backend type: bogus")]
    [InlineData("{\"Network\":\"banana\"}", "invalid CIDR address: banana")]
    public void InvalidConfigsGiveFlannelsExactText(string json, string message)
    {
        var ex = Assert.Throws<NetworkConfigInvalidException>(() => NetworkConfigParser.Parse(json));
        Assert.Equal(message, ex.Message);
        Assert.Equal("FlannelNetworkConfigInvalid", ex.ErrorId);
    }

    // SubnetLen is a Go uint (64 bits): every value it can hold is decoded and then range-checked,
    // so a huge one is "too long", never wrapped into a negative "unset" that would mean /24.
    [Theory]
    [InlineData("2147483648")]
    [InlineData("4294967295")]
    [InlineData("4294967296")]
    [InlineData("18446744073709551615")]
    public void SubnetLenBeyondThirtyTwoBitsIsTooLongAsInGo(string value)
    {
        var ex = Assert.Throws<NetworkConfigInvalidException>(() => NetworkConfigParser.Parse($"{{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":{value}}}"));
        Assert.Equal("SubnetLen must be less than /31", ex.Message);
    }

    // What Go's decoder refuses for a uint, with its text (checked against flanneld v0.20.2).
    [Theory]
    [InlineData("18446744073709551616")]
    [InlineData("-1")]
    [InlineData("-0")]
    [InlineData("24.0")]
    [InlineData("2.4e1")]
    public void SubnetLenThatIsNotAUintIsGosUnmarshalError(string value)
    {
        var ex = Assert.Throws<NetworkConfigInvalidException>(() => NetworkConfigParser.Parse($"{{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":{value}}}"));
        Assert.Equal($"json: cannot unmarshal number {value} into Go struct field Config.SubnetLen of type uint", ex.Message);
    }

    // flannel reads the backend's own keys only when the backend starts: a network config whose
    // Backend Port or VNI is a large number still parses, and the backend refuses it by range.
    [Fact]
    public void BackendNumbersBeyondThirtyTwoBitsParseAtConfigLevelAndFailTheBackendsRangeCheck()
    {
        var udp = NetworkConfigParser.Parse("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"udp\",\"Port\":4294967296}}");
        var ex = Assert.Throws<NetworkConfigInvalidException>(() => FlannelPS.Core.Backend.Udp.UdpBackendConfig.Parse(udp.BackendJson));
        Assert.Equal("invalid udp backend Port 4294967296: must be 1..65535", ex.Message);
        var vxlan = NetworkConfigParser.Parse("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"VNI\":4294967297}}");
        ex = Assert.Throws<NetworkConfigInvalidException>(() => FlannelPS.Core.Backend.Vxlan.VxlanConfig.Parse(vxlan.BackendJson));
        Assert.StartsWith("invalid vxlan VNI 4294967297:", ex.Message);
    }

    [Fact]
    public void CompatibilityChecksRangeAndLength()
    {
        var c = NetworkConfigParser.Parse("{\"Network\":\"10.0.0.0/16\",\"SubnetMin\":\"10.0.10.0\",\"SubnetMax\":\"10.0.20.0\"}");
        Assert.True(c.IsCompatible(Ip4Net.Parse("10.0.10.0/24")));
        Assert.True(c.IsCompatible(Ip4Net.Parse("10.0.20.0/24")));
        Assert.False(c.IsCompatible(Ip4Net.Parse("10.0.21.0/24")));
        Assert.False(c.IsCompatible(Ip4Net.Parse("10.0.12.0/25")));
    }
}
