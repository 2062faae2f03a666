// Keys from the prefix as flanneld builds them with Go's path.Join: the texts below are what Go's
// path.Clean and path.Join return for these inputs.
using FlannelPS.Core.Registry;

namespace FlannelPS.Core.Tests.Registry;

public sealed class EtcdKeyPathTests
{
    [Theory]
    [InlineData("", ".")]
    [InlineData(".", ".")]
    [InlineData("/", "/")]
    [InlineData("//", "/")]
    [InlineData("a/c", "a/c")]
    [InlineData("a//c", "a/c")]
    [InlineData("a/c/.", "a/c")]
    [InlineData("a/c/b/..", "a/c")]
    [InlineData("/../a/c", "/a/c")]
    [InlineData("/../a/b/../././/c", "/a/c")]
    [InlineData("../../a", "../../a")]
    [InlineData("a/../..", "..")]
    [InlineData("coreos.com/network/", "coreos.com/network")]
    [InlineData("/coreos.com//network//", "/coreos.com/network")]
    public void CleanIsGosPathClean(string path, string clean) => Assert.Equal(clean, EtcdKeyPath.Clean(path));

    [Theory]
    [InlineData(new[] { "a", "b", "c" }, "a/b/c")]
    [InlineData(new[] { "a", "b/c" }, "a/b/c")]
    [InlineData(new[] { "a/b", "/c" }, "a/b/c")]
    [InlineData(new[] { "a/b", "../../../xyz" }, "../xyz")]
    [InlineData(new[] { "", "" }, "")]
    [InlineData(new[] { "a", "" }, "a")]
    [InlineData(new[] { "", "a" }, "a")]
    [InlineData(new[] { "/", "config" }, "/config")]
    public void JoinIsGosPathJoin(string[] elements, string joined) => Assert.Equal(joined, EtcdKeyPath.Join(elements));

    [Theory]
    [InlineData("/coreos.com/network", "/coreos.com/network", "/coreos.com/network/config", "/coreos.com/network/subnets/")]
    [InlineData("coreos.com/network", "coreos.com/network", "coreos.com/network/config", "coreos.com/network/subnets/")]
    [InlineData("coreos.com//network/", "coreos.com/network", "coreos.com/network/config", "coreos.com/network/subnets/")]
    [InlineData("//atomic.io/network//", "/atomic.io/network", "/atomic.io/network/config", "/atomic.io/network/subnets/")]
    [InlineData("/", "/", "/config", "/subnets/")]
    [InlineData("", ".", "config", "subnets/")]
    public void EveryKeyKeepsTheLeadingSlashTheFlagHadOrLacked(string prefix, string clean, string config, string subnets)
    {
        var o = new EtcdOptions { Prefix = prefix };
        Assert.Equal((clean, config, subnets), (o.CleanPrefix, o.ConfigKey, o.SubnetsPrefix));
        // CleanPrefix names the same keys: a record carrying it back as its prefix lands on them.
        var back = new EtcdOptions { Prefix = o.CleanPrefix };
        Assert.Equal((config, subnets), (back.ConfigKey, back.SubnetsPrefix));
    }

    [Fact]
    public void TheDefaultPrefixIsRooted() =>
        Assert.Equal(("/coreos.com/network/config", "/coreos.com/network/subnets/"), (new EtcdOptions().ConfigKey, new EtcdOptions().SubnetsPrefix));
}
