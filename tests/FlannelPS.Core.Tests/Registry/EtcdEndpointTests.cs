using FlannelPS.Core.Subnet;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Registry;

namespace FlannelPS.Core.Tests.Registry;

public sealed class EtcdEndpointTests
{
    [Theory]
    [InlineData("http://127.0.0.1:2379", false, "http://127.0.0.1:2379/")]
    [InlineData("127.0.0.1:23790", false, "http://127.0.0.1:23790/")]
    [InlineData("127.0.0.1", false, "http://127.0.0.1:2379/")]
    [InlineData("http://etcd.local", false, "http://etcd.local:2379/")]
    [InlineData("https://127.0.0.1", false, "https://127.0.0.1:2379/")]
    [InlineData("127.0.0.1:2379", true, "https://127.0.0.1:2379/")]
    public void Endpoints_are_read_as_etcdctl_reads_them(string text, bool tls, string expected) =>
        Assert.Equal(expected, EtcdChannel.ParseEndpoint(text, tls).ToString());

    [Fact]
    public void A_bad_or_mixed_endpoint_list_is_an_argument_error()
    {
        Assert.Equal("FlannelEtcdEndpointInvalid", Assert.Throws<FlannelException>(() => EtcdChannel.ParseEndpoint("ftp://x:1", false)).ErrorId);
        // A bare word is no host name: refused as malformed, with the endpoint as the target.
        var banana = Assert.Throws<FlannelException>(() => EtcdChannel.ParseEndpoint("banana", false));
        Assert.Equal(("FlannelEtcdEndpointInvalid", (object)"banana"), (banana.ErrorId, banana.Target));
        Assert.Equal("http://localhost:2379/", EtcdChannel.ParseEndpoint("localhost", false).ToString());
        var ex = Assert.Throws<FlannelException>(() => new EtcdSubnetRegistry(new EtcdOptions { Endpoints = ["http://127.0.0.1:1", "https://127.0.0.1:2"] }));
        Assert.Contains("mix http and https", ex.Message);
        Assert.Throws<FlannelException>(() => new EtcdSubnetRegistry(new EtcdOptions { Endpoints = [] }));
    }

    [Fact]
    public async Task Several_endpoints_fail_over_to_the_live_one()
    {
        var options = new EtcdOptions { Endpoints = ["http://127.0.0.1:1", TestEtcd.Endpoint], Prefix = $"/test/{Guid.NewGuid():N}/network", RequestTimeout = TimeSpan.FromSeconds(3) };
        await using var registry = new EtcdSubnetRegistry(options);
        for (var i = 0; i < 5; i++) Assert.Null(await registry.GetNetworkConfigAsync(default));
    }
}
