// Installs and removes the flanneld service: plans are pure reads (so -WhatIf shows each file it
// would write, exactly), Apply writes atomically, and systemctl runs only where systemd is the init.
using System.Globalization;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Service;

#pragma warning disable CA1416 // Linux-only product: Unix file modes are what is wanted.

public sealed class FlannelServiceInstaller(ICommandRunner? runner = null, string systemdRuntimeDirectory = Systemd.DefaultRuntimeDirectory)
{
    /// <summary>Readable by root only: the file may carry an etcd password.</summary>
    private const UnixFileMode SecretMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // `systemctl start` of a Type=notify unit waits for READY=1; allow systemd's own 90 s start timeout.
    private readonly Systemd _systemd = new(runner ?? new ProcessCommandRunner(TimeSpan.FromSeconds(120)), systemdRuntimeDirectory);

    /// <summary>True when PID 1 is systemd.</summary>
    public bool SystemdRunning => _systemd.IsRunning;

    public FlannelService PlanInstall(FlannelServiceSettings settings, bool force)
    {
        var unit = ServiceFiles.RenderUnit(settings);
        var env = ServiceFiles.RenderEnvironment(settings);
        var envMode = settings.Flanneld.EtcdPassword is { Length: > 0 } ? SecretMode : AtomicFile.DefaultMode;
        var writes = new List<(string, string, UnixFileMode)>();
        // The environment file first: a unit is never in place without the settings it loads.
        if (NeedsWrite(settings.EnvironmentFilePath, env, force)) writes.Add((settings.EnvironmentFilePath, env, envMode));
        if (NeedsWrite(settings.UnitPath, unit, force)) writes.Add((settings.UnitPath, unit, AtomicFile.DefaultMode));
        return new FlannelService
        {
            Name = settings.Name,
            UnitPath = settings.UnitPath,
            EnvironmentFilePath = settings.EnvironmentFilePath,
            UnitContent = unit,
            EnvironmentContent = env,
            ExecStart = ServiceFiles.ExecStart(settings),
            EtcdEndpoints = settings.Flanneld.EtcdEndpoints,
            EtcdPrefix = settings.Flanneld.EtcdPrefix,
            Options = string.Join(' ', ServiceFiles.OptionWords(settings)),
            Changed = writes.Count > 0,
            SystemdRunning = SystemdRunning,
            Writes = writes,
        };
    }

    /// <summary>Plans removing exactly what Install wrote: files that carry FlannelPS's marker
    /// (any file with <paramref name="force"/>); absent files are skipped.</summary>
    public FlannelService PlanUninstall(string name, string unitPath, string environmentFilePath, bool force)
    {
        var deletes = new List<string>();
        foreach (var path in new[] { unitPath, environmentFilePath })
        {
            if (!File.Exists(path)) continue;
            if (!force && !ServiceFiles.IsOurs(File.ReadAllText(path)))
                throw NotOwned(path, "removed", "Uninstall-FlannelService");
            deletes.Add(path);
        }
        return new FlannelService
        {
            Name = name,
            UnitPath = unitPath,
            EnvironmentFilePath = environmentFilePath,
            Changed = deletes.Count > 0,
            SystemdRunning = SystemdRunning,
            Deletes = deletes,
        };
    }

    public static void Apply(FlannelService plan)
    {
        foreach (var (path, content, mode) in plan.Writes)
        {
            AtomicFile.WriteAllText(path, content, mode); // sets the exact mode, whatever the umask
        }
        foreach (var path in plan.Deletes)
        {
            try { File.Delete(path); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new FlannelException("FlannelFileDeleteFailed", FlannelErrorCategory.PermissionDenied,
                    string.Create(CultureInfo.InvariantCulture, $"Cannot remove '{path}': {ex.Message}"), path, ex);
            }
        }
    }

    /// <summary>daemon-reload (when the files changed), enable, then restart (changed) or start.
    /// Throws FlannelSystemdNotRunning where systemd is not the init.</summary>
    public async Task<FlannelService> EnableAndStartAsync(FlannelService plan, bool start, CancellationToken cancellationToken)
    {
        if (!SystemdRunning) throw NotRunning(plan);
        if (plan.Changed) await SystemctlAsync(plan.Name, cancellationToken, "daemon-reload").ConfigureAwait(false);
        await SystemctlAsync(plan.Name, cancellationToken, "enable", plan.Name).ConfigureAwait(false);
        if (!start) return plan with { Enabled = true };
        await SystemctlAsync(plan.Name, cancellationToken, plan.Changed ? "restart" : "start", plan.Name).ConfigureAwait(false);
        return plan with { Enabled = true, Started = true };
    }

    /// <summary>Before the files go: systemctl disable --now. A unit systemd does not know is not an error.</summary>
    public async Task<FlannelService> StopAndDisableAsync(FlannelService plan, CancellationToken cancellationToken)
    {
        if (!SystemdRunning) throw NotRunning(plan);
        string[] args = ["disable", "--now", plan.Name];
        var r = await _systemd.SystemctlAsync(args, cancellationToken).ConfigureAwait(false);
        if (!r.Succeeded && !IsUnknownUnit(r)) throw Failed(plan.Name, Systemd.FailureText(args, r));
        return plan with { Enabled = r.Succeeded, Started = r.Succeeded };
    }

    /// <summary>After the files are gone, so systemd forgets the unit.</summary>
    public Task ReloadAsync(string name, CancellationToken cancellationToken) =>
        SystemctlAsync(name, cancellationToken, "daemon-reload");

    private Task SystemctlAsync(string name, CancellationToken cancellationToken, params string[] args) =>
        _systemd.SystemctlCheckedAsync(args, text => Failed(name, text), cancellationToken);

    /// <summary>What to tell a user where systemd is not the init: the files are there, and how to
    /// run the same node without systemd.</summary>
    public string ManualStartHint(FlannelService plan, string binDirectory) =>
        $"{_systemd.NotRunningText}: '{plan.UnitPath}' and " +
        $"'{plan.EnvironmentFilePath}' are in place but the service was not enabled or started. Start the node by hand with " +
        // -a exports what the file sets, as EnvironmentFile= does; eval splits FLANNEL_OPTIONS into words as systemd does.
        $"`set -a; . {plan.EnvironmentFilePath}; eval \"set -- $FLANNEL_OPTIONS\"; sh {Path.Combine(binDirectory, ServiceFiles.StartScriptName)} \"$@\"`.";

    private FlannelException NotRunning(FlannelService plan) =>
        new("FlannelSystemdNotRunning", FlannelErrorCategory.ResourceUnavailable,
            $"{_systemd.NotRunningText}, so systemctl was not run for '{plan.Name}'.", plan.UnitPath);

    private static bool IsUnknownUnit(CommandResult r) =>
        r.StdErr.Contains("does not exist", StringComparison.OrdinalIgnoreCase) || r.StdErr.Contains("not loaded", StringComparison.OrdinalIgnoreCase);

    private static FlannelException Failed(string name, string failure) =>
        new("FlannelServiceSystemctlFailed", FlannelErrorCategory.InvalidOperation,
            $"{failure} See `systemctl status {name}` and `journalctl -u {name}`.", name);

    private static bool NeedsWrite(string path, string content, bool force)
    {
        if (!File.Exists(path)) return true;
        var existing = File.ReadAllText(path);
        if (existing == content) return false;
        if (!force && !ServiceFiles.IsOurs(existing)) throw NotOwned(path, "replaced", "Install-FlannelService");
        return true;
    }

    private static FlannelException NotOwned(string path, string verb, string cmdlet) =>
        new("FlannelServiceFileNotOwned", FlannelErrorCategory.ResourceExists,
            $"'{path}' was not written by Install-FlannelService (its first line is not FlannelPS's marker), so it was not {verb}. " +
            $"Use -Force with {cmdlet} to {(verb == "removed" ? "remove" : "replace")} it anyway.", path);
}
