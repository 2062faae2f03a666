using FlannelPS.Core.Cli;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Service;

namespace FlannelPS.Core.Tests.Service;

#pragma warning disable CA1416

public sealed class FlannelServiceInstallerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fpsv-svc-").FullName;
    private readonly RecordingRunner _runner = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SystemdDir => Path.Combine(_dir, "run-systemd-system");

    private FlannelServiceSettings Settings(Func<FlanneldSettings, FlanneldSettings>? change = null) => new()
    {
        UnitPath = Path.Combine(_dir, "etc/systemd/system/flanneld.service"),
        EnvironmentFilePath = Path.Combine(_dir, "etc/sysconfig/flanneld"),
        BinDirectory = "/opt/FlannelPS/bin",
        Flanneld = (change ?? (s => s))(new FlanneldSettings { EtcdEndpoints = "http://192.0.2.2:2379" }),
    };

    private FlannelServiceInstaller Installer(bool systemd) =>
        new(_runner, systemd ? Directory.CreateDirectory(SystemdDir).FullName : SystemdDir);

    [Fact]
    public void InstallWritesBothFilesAndASecondInstallChangesNothing()
    {
        var installer = Installer(systemd: false);
        var s = Settings();
        var plan = installer.PlanInstall(s, force: false);
        Assert.True(plan.Changed);
        Assert.False(plan.SystemdRunning);
        Assert.Equal([s.EnvironmentFilePath, s.UnitPath], plan.FilesWritten);
        Assert.False(File.Exists(s.UnitPath)); // planning writes nothing (-WhatIf)
        FlannelServiceInstaller.Apply(plan);
        Assert.Equal(plan.UnitContent, File.ReadAllText(s.UnitPath));
        Assert.Equal(plan.EnvironmentContent, File.ReadAllText(s.EnvironmentFilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(s.UnitPath));

        var again = installer.PlanInstall(s, force: false);
        Assert.False(again.Changed);
        Assert.Empty(again.FilesWritten);
    }

    [Fact]
    public void AnEtcdPasswordMakesTheEnvironmentFileRootOnly()
    {
        var s = Settings(f => f with { EtcdUsername = "u", EtcdPassword = "p" });
        FlannelServiceInstaller.Apply(Installer(false).PlanInstall(s, force: false));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(s.EnvironmentFilePath));
        Assert.Contains("-etcd-username=u -etcd-password=p", File.ReadAllText(s.EnvironmentFilePath), StringComparison.Ordinal);
    }

    [Fact]
    public void AFileFlannelPSDidNotWriteIsOnlyReplacedOrRemovedWithForce()
    {
        var s = Settings();
        Directory.CreateDirectory(Path.GetDirectoryName(s.EnvironmentFilePath)!);
        File.WriteAllText(s.EnvironmentFilePath, "FLANNEL_ETCD=\"http://127.0.0.1:2379\"\n");
        var installer = Installer(false);
        var ex = Assert.Throws<FlannelException>(() => installer.PlanInstall(s, force: false));
        Assert.Equal("FlannelServiceFileNotOwned", ex.ErrorId);
        Assert.Throws<FlannelException>(() => installer.PlanUninstall("flanneld", s.UnitPath, s.EnvironmentFilePath, force: false));
        Assert.Equal([s.EnvironmentFilePath, s.UnitPath], installer.PlanInstall(s, force: true).FilesWritten);
        Assert.Equal([s.EnvironmentFilePath], installer.PlanUninstall("flanneld", s.UnitPath, s.EnvironmentFilePath, force: true).FilesRemoved);
    }

    [Fact]
    public void UninstallRemovesExactlyWhatInstallWroteAndIsIdempotent()
    {
        var s = Settings();
        var installer = Installer(false);
        FlannelServiceInstaller.Apply(installer.PlanInstall(s, force: false));
        var neighbour = Path.Combine(Path.GetDirectoryName(s.UnitPath)!, "docker.service");
        File.WriteAllText(neighbour, "[Unit]\n");

        var plan = installer.PlanUninstall("flanneld", s.UnitPath, s.EnvironmentFilePath, force: false);
        Assert.Equal([s.UnitPath, s.EnvironmentFilePath], plan.FilesRemoved);
        FlannelServiceInstaller.Apply(plan);
        Assert.False(File.Exists(s.UnitPath));
        Assert.False(File.Exists(s.EnvironmentFilePath));
        Assert.True(File.Exists(neighbour));
        Assert.False(installer.PlanUninstall("flanneld", s.UnitPath, s.EnvironmentFilePath, force: false).Changed);
    }

    [Fact]
    public async Task WhereSystemdRunsInstallReloadsEnablesAndRestartsThenOnlyStartsWhenUnchanged()
    {
        var installer = Installer(systemd: true);
        var s = Settings();
        var plan = installer.PlanInstall(s, force: false);
        FlannelServiceInstaller.Apply(plan);
        var done = await installer.EnableAndStartAsync(plan, start: true, CancellationToken.None);
        Assert.True(done.Enabled && done.Started);
        Assert.Equal(["systemctl daemon-reload", "systemctl enable flanneld", "systemctl restart flanneld"], _runner.Commands);

        _runner.Commands.Clear();
        await installer.EnableAndStartAsync(installer.PlanInstall(s, force: false), start: true, CancellationToken.None);
        Assert.Equal(["systemctl enable flanneld", "systemctl start flanneld"], _runner.Commands);
    }

    [Fact]
    public async Task UninstallDisablesAndStopsThenReloads()
    {
        var installer = Installer(systemd: true);
        var plan = installer.PlanUninstall("flanneld", "/nonexistent/u", "/nonexistent/e", force: false);
        await installer.StopAndDisableAsync(plan, CancellationToken.None);
        await installer.ReloadAsync("flanneld", CancellationToken.None);
        Assert.Equal(["systemctl disable --now flanneld", "systemctl daemon-reload"], _runner.Commands);
    }

    [Fact]
    public async Task ASystemctlFailureSaysWhereToLook()
    {
        _runner.Fail = "restart";
        var installer = Installer(systemd: true);
        var plan = installer.PlanInstall(Settings(), force: false);
        var ex = await Assert.ThrowsAsync<FlannelException>(() => installer.EnableAndStartAsync(plan, start: true, CancellationToken.None));
        Assert.Equal("FlannelServiceSystemctlFailed", ex.ErrorId);
        Assert.Contains("journalctl -u flanneld", ex.Message, StringComparison.Ordinal);
        // systemctl ends its own sentence; the message does not add a second full stop.
        Assert.Contains("failed (exit 1): Job for flanneld.service failed. See `systemctl status flanneld`", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutSystemdNothingIsRunAndTheHintSaysHowToStartByHand()
    {
        var installer = Installer(systemd: false);
        var plan = installer.PlanInstall(Settings(), force: false);
        var ex = await Assert.ThrowsAsync<FlannelException>(() => installer.EnableAndStartAsync(plan, start: true, CancellationToken.None));
        Assert.Equal("FlannelSystemdNotRunning", ex.ErrorId);
        Assert.Empty(_runner.Commands);
        var hint = installer.ManualStartHint(plan, "/opt/FlannelPS/bin");
        Assert.StartsWith("systemd is not running on this host (", hint, StringComparison.Ordinal);
        Assert.Contains($"`set -a; . {plan.EnvironmentFilePath}; eval \"set -- $FLANNEL_OPTIONS\"; sh /opt/FlannelPS/bin/flanneld-start \"$@\"`", hint, StringComparison.Ordinal);
    }

    private sealed class RecordingRunner : ICommandRunner
    {
        public List<string> Commands { get; } = [];
        public string? Fail { get; set; }

        public Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
        {
            Commands.Add($"{fileName} {string.Join(' ', arguments)}");
            var failed = Fail is not null && arguments.Contains(Fail);
            return Task.FromResult(new CommandResult(failed ? 1 : 0, "", failed ? "Job for flanneld.service failed." : ""));
        }
    }
}
