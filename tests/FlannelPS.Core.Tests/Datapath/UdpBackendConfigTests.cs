using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Datapath;

public sealed class UdpBackendConfigTests
{
    [Theory]
    [InlineData(null, 8285)]
    [InlineData("""{"Type":"udp"}""", 8285)]
    [InlineData("""{"Type":"udp","Port":9000}""", 9000)]
    [InlineData("""{"type":"UDP","port":7000}""", 7000)]
    [InlineData("""{"Port":1,"PORT":2}""", 2)]
    public void Port_is_read_case_insensitively_with_default_8285(string? json, int port) =>
        Assert.Equal(port, UdpBackendConfig.Parse(json).Port);

    [Theory]
    [InlineData("""{"Port":"8285"}""")]
    [InlineData("""{"Port":70000}""")]
    [InlineData("""{"Port":0}""")]
    public void Bad_ports_are_rejected(string json) =>
        Assert.Throws<NetworkConfigInvalidException>(() => UdpBackendConfig.Parse(json));

    [Fact]
    public void Lease_attrs_carry_only_the_public_ip()
    {
        var attrs = new UdpBackend().CreateLeaseAttrs(new ExternalInterface("eth0", 2, Ip4.Parse("192.0.2.1"), Ip4.Parse("198.51.100.1"), 1500));
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":null}""", attrs.ToJson());
    }
}
