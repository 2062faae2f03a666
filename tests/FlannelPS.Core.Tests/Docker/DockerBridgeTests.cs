using System.Diagnostics;
using FlannelPS.Core.Docker;
using FlannelPS.Core.Files;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Docker;

// Real bridges in a namespace this test creates (never the root namespace), changed over rtnetlink from a thread inside it.
public sealed class DockerBridgeTests : IDisposable
{
    private readonly string _ns = $"fpdk-{Environment.GetEnvironmentVariable("FLANNELPS_TEST_RUNID") ?? Environment.ProcessId.ToString()}-br{Guid.NewGuid().ToString("N")[..6]}";

    public DockerBridgeTests() => Ip("netns", "add", _ns);

    public void Dispose() => Ip("netns", "del", _ns);

    [Fact]
    public async Task CreatesBridgeReplacesOldAddressSetsMtuAndIsIdempotent()
    {
        var bridge = new DockerBridge(netns: _ns);
        var target = new BridgeTarget(Ip4.Parse("10.0.5.1"), 24, 1472);

        var first = await bridge.SetAsync("docker0", target, CancellationToken.None);
        Assert.True(first.Created);
        Assert.Contains("inet 10.0.5.1/24", Ip("-n", _ns, "-4", "addr", "show", "dev", "docker0"));
        var link = Ip("-n", _ns, "link", "show", "dev", "docker0");
        Assert.Contains("mtu 1472", link);
        Assert.Contains(",UP", link);

        var again = await bridge.SetAsync("docker0", target, CancellationToken.None);
        Assert.False(again.Changed);

        // Docker's own default address is replaced, not kept beside flannel's.
        var moved = new BridgeTarget(Ip4.Parse("10.0.6.1"), 24, 1450);
        Ip("-n", _ns, "addr", "add", "172.17.0.1/16", "dev", "docker0");
        var plan = await bridge.PlanAsync("docker0", moved, CancellationToken.None);
        Assert.Equal(["ip addr del 10.0.5.1/24 dev docker0", "ip addr del 172.17.0.1/16 dev docker0", "ip addr add 10.0.6.1/24 dev docker0", "ip link set dev docker0 mtu 1450"],
            plan.Changes.Select(c => c.ToString()));
        await bridge.ApplyAsync(plan, CancellationToken.None);
        var addrs = Ip("-n", _ns, "-4", "-o", "addr", "show", "dev", "docker0");
        Assert.Contains("10.0.6.1/24", addrs);
        Assert.DoesNotContain("172.17.0.1", addrs);
        Assert.DoesNotContain("10.0.5.1", addrs);
    }

    [Fact]
    public async Task RefusesAnInterfaceThatIsNotABridge()
    {
        Ip("-n", _ns, "link", "add", "fpv0", "type", "veth", "peer", "name", "fpv1");
        var ex = await Assert.ThrowsAsync<FlannelPS.Core.Errors.FlannelException>(
            () => new DockerBridge(netns: _ns).PlanAsync("fpv0", new BridgeTarget(Ip4.Parse("10.0.5.1"), 24, 1472), CancellationToken.None));
        Assert.Equal("FlannelNotABridge", ex.ErrorId);
        Assert.Contains("fpv0", ex.Message);
    }

    [Fact]
    public async Task PlansAsIpCommandsAndAppliesThroughTheHostSeamInOrder()
    {
        var host = new FlannelPS.Core.Tests.Fakes.RecordingHostNetwork();
        var bridge = new DockerBridge(host);
        var plan = await bridge.PlanAsync("docker0", new BridgeTarget(Ip4.Parse("10.0.5.1"), 24, 1472), CancellationToken.None);
        Assert.Equal(["ip link add name docker0 type bridge", "ip addr add 10.0.5.1/24 dev docker0", "ip link set dev docker0 mtu 1472", "ip link set dev docker0 up"],
            plan.Changes.Select(c => c.ToString()));
        await bridge.ApplyAsync(plan, CancellationToken.None);
        Assert.Equal(["AddBridge docker0", "AddAddress docker0 10.0.5.1/24", "SetMtu docker0 1472", "SetUp docker0"], host.Calls);
        Assert.Empty((await bridge.PlanAsync("docker0", new BridgeTarget(Ip4.Parse("10.0.5.1"), 24, 1472), CancellationToken.None)).Changes);
    }

    [Fact]
    public void TargetComesFromSubnetEnvAsWritten()
    {
        var t = BridgeTarget.FromSubnetEnv(EnvFile.Parse("FLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=1472\n"), "f");
        Assert.Equal("10.0.72.1/24", t.Cidr);
        Assert.Equal(1472, t.Mtu);
        Assert.Equal("FlannelSubnetFileNotFound", Assert.Throws<SubnetFileNotFoundException>(() => BridgeTarget.FromSubnetEnv(null, "/nope")).ErrorId);
        var bad = Assert.Throws<FlannelPS.Core.Errors.FlannelException>(() => BridgeTarget.FromSubnetEnv(EnvFile.Parse("FLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=big\n"), "f"));
        Assert.Contains("'big'", bad.Message);
    }

    private static string Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {output}");
        return output;
    }
}
