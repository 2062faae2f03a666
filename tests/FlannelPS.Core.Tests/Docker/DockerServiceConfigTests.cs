using System.Text.Json.Nodes;
using FlannelPS.Core.Docker;
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Tests.Docker;

public sealed class DockerServiceConfigTests : IDisposable
{
    private const string DebianUnit = """
        [Unit]
        Description=Docker Application Container Engine

        [Service]
        Type=notify
        EnvironmentFile=-/etc/default/docker
        ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS
        ExecReload=/bin/kill -s HUP $MAINPID

        [Install]
        WantedBy=multi-user.target
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("fpdk-svc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ExecStartKeepsTheDistributionFlagsAndPutsDockerOptsFirstOnce()
    {
        var exec = DockerDropIn.ParseExecStart(DebianUnit);
        Assert.Equal("/usr/sbin/dockerd $DOCKER_OPTS -H fd:// --containerd=/run/containerd/containerd.sock",
            DockerDropIn.BuildExecStart(exec, new()));
        Assert.Equal("/usr/bin/dockerd $DOCKER_OPTS", DockerDropIn.BuildExecStart(null, new()));
        Assert.Equal("/opt/dockerd $X -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS",
            DockerDropIn.BuildExecStart(exec, new(DockerdPath: "/opt/dockerd", Key: "X")));
    }

    [Fact]
    public void ExecStartParsingFollowsSystemdResetsContinuationsAndPrefixes()
    {
        var unit = "[Service]\nExecStart=/a\nExecStart=\nExecStart=-/usr/bin/dockerd \\\n  -H unix:// \\\n  ${DOCKER_OPTS}\n[X]\nExecStart=/not/this\n";
        var exec = DockerDropIn.ParseExecStart(unit)!;
        Assert.Equal("/usr/bin/dockerd", exec.Executable);
        Assert.Equal(["-H", "unix://", "${DOCKER_OPTS}"], exec.Arguments);
        Assert.Equal("/usr/bin/dockerd $DOCKER_OPTS -H unix://", DockerDropIn.BuildExecStart(exec, new()));
        Assert.Null(DockerDropIn.ParseExecStart("[Service]\nExecStart=/x\nExecStart=\n"));
    }

    [Fact]
    public void DropInInstallIsExactIdempotentAndUninstallRemovesOnlyOurs()
    {
        var unit = Path.Combine(_dir, "docker.service");
        File.WriteAllText(unit, DebianUnit);
        var path = Path.Combine(_dir, "docker.service.d", "flannel.conf");
        var plan = DockerServiceConfig.PlanDropIn(path, unit, new());
        Assert.True(plan.Changed);
        Assert.False(File.Exists(path));
        DockerServiceConfig.Apply(plan);
        Assert.Equal(DockerDropIn.Marker + "\n[Service]\nEnvironmentFile=/run/docker_opts.env\nExecStart=\n" +
            "ExecStart=/usr/sbin/dockerd $DOCKER_OPTS -H fd:// --containerd=/run/containerd/containerd.sock\n", File.ReadAllText(path));
        Assert.False(DockerServiceConfig.PlanDropIn(path, unit, new()).Changed);

        DockerServiceConfig.Apply(DockerServiceConfig.PlanRemoveDropIn(path, force: false));
        Assert.False(File.Exists(path));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
        Assert.False(DockerServiceConfig.PlanRemoveDropIn(path, force: false).Changed);

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "[Service]\nEnvironment=MINE=1\n");
        var ex = Assert.Throws<FlannelPS.Core.Errors.FlannelException>(() => DockerServiceConfig.PlanRemoveDropIn(path, force: false));
        Assert.Equal("FlannelDropInNotOwned", ex.ErrorId);
        DockerServiceConfig.Apply(DockerServiceConfig.PlanRemoveDropIn(path, force: true));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void DaemonJsonMergeKeepsOtherKeysAndUninstallRestoresWhatWasThere()
    {
        var subnet = Path.Combine(_dir, "subnet.env");
        File.WriteAllText(subnet, "FLANNEL_NETWORK=10.0.0.0/16\nFLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n");
        var json = Path.Combine(_dir, "daemon.json");
        File.WriteAllText(json, """{"log-driver":"journald","mtu":9000,"registry-mirrors":["https://m.example"],"nested":{"a":1}}""");

        DockerServiceConfig.Apply(DockerServiceConfig.PlanDaemonJson(json, subnet, noIpMasq: false));
        var doc = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal("journald", (string?)doc["log-driver"]);
        Assert.Equal("https://m.example", (string?)doc["registry-mirrors"]![0]);
        Assert.Equal(1, (int?)doc["nested"]!["a"]);
        Assert.Equal("10.0.72.1/24", (string?)doc["bip"]);
        Assert.Equal(1472, (int?)doc["mtu"]);
        Assert.False((bool?)doc["ip-masq"]);
        Assert.Equal(["log-driver", "mtu", "registry-mirrors", "nested", "bip", "ip-masq"], doc.Select(p => p.Key));

        // A second install (e.g. a new lease) must not forget the user's original mtu.
        File.WriteAllText(subnet, "FLANNEL_SUBNET=10.0.9.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
        DockerServiceConfig.Apply(DockerServiceConfig.PlanDaemonJson(json, subnet, noIpMasq: false));
        Assert.False(DockerServiceConfig.PlanDaemonJson(json, subnet, noIpMasq: false).Changed);
        Assert.Equal("10.0.9.1/24", (string?)JsonNode.Parse(File.ReadAllText(json))!["bip"]);

        DockerServiceConfig.Apply(DockerServiceConfig.PlanRemoveDaemonJson(json));
        var after = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal(["log-driver", "mtu", "registry-mirrors", "nested"], after.Select(p => p.Key));
        Assert.Equal(9000, (int?)after["mtu"]);
        Assert.False(File.Exists(DockerDaemonJson.StatePathFor(json)));
        Assert.False(DockerServiceConfig.PlanRemoveDaemonJson(json).Changed);
    }

    [Fact]
    public void DaemonJsonUninstallLeavesKeysTheUserChangedSince()
    {
        var subnet = Path.Combine(_dir, "subnet.env");
        File.WriteAllText(subnet, "FLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=1472\n");
        var json = Path.Combine(_dir, "daemon.json");
        DockerServiceConfig.Apply(DockerServiceConfig.PlanDaemonJson(json, subnet, noIpMasq: true));
        var doc = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal(["bip", "mtu"], doc.Select(p => p.Key));
        doc["mtu"] = 1400;
        File.WriteAllText(json, doc.ToJsonString());
        var plan = DockerServiceConfig.PlanRemoveDaemonJson(json);
        Assert.Equal(["mtu"], plan.KeysSkipped);
        DockerServiceConfig.Apply(plan);
        Assert.Equal("""{"mtu":1400}""", JsonNode.Parse(File.ReadAllText(json))!.ToJsonString());
    }

    [Fact]
    public void InvalidDaemonJsonIsNamedAndLeftUnchanged()
    {
        var subnet = Path.Combine(_dir, "subnet.env");
        File.WriteAllText(subnet, "FLANNEL_SUBNET=10.0.72.1/24\nFLANNEL_MTU=1472\n");
        var json = Path.Combine(_dir, "daemon.json");
        File.WriteAllText(json, "[1,2]");
        var ex = Assert.Throws<FlannelPS.Core.Errors.FlannelException>(() => DockerServiceConfig.PlanDaemonJson(json, subnet, false));
        Assert.Equal("FlannelDaemonJsonInvalid", ex.ErrorId);
        Assert.Contains(json, ex.Message);
        Assert.Equal("[1,2]", File.ReadAllText(json));
    }

    [Fact]
    public async Task RestartRunsDaemonReloadThenRestartOnlyUnderSystemd()
    {
        var runner = new RecordingRunner();
        var fakeRuntime = Path.Combine(_dir, "systemd-system");
        var systemd = new SystemdDocker(new Systemd(runner, fakeRuntime));
        var ex = await Assert.ThrowsAsync<SystemdNotRunningException>(() => systemd.RestartDockerAsync("/x.conf", CancellationToken.None));
        Assert.Equal("FlannelSystemdNotRunning", ex.ErrorId);
        Assert.Contains("/x.conf", ex.Message);
        Assert.Contains($"({fakeRuntime} does not exist)", ex.Message);
        Assert.Empty(runner.Calls);
        Directory.CreateDirectory(fakeRuntime);
        await systemd.RestartDockerAsync("/x.conf", CancellationToken.None);
        Assert.Equal(["systemctl daemon-reload", "systemctl restart docker"], runner.Calls);
    }

    private sealed class RecordingRunner : ICommandRunner
    {
        public List<string> Calls { get; } = [];

        public Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
        {
            Calls.Add(fileName + " " + string.Join(' ', arguments));
            return Task.FromResult(new CommandResult(0, "", ""));
        }
    }
}
