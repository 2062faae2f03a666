// Plans and applies the Docker service configuration (drop-in or daemon.json) and its removal.
// Plans are pure reads, so -WhatIf can show the exact content before anything is written.
using System.Globalization;
using System.Text.Json.Nodes;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;

namespace FlannelPS.Core.Docker;

public static class DockerServiceConfig
{
    /// <param name="path">The drop-in file.</param>
    /// <param name="dockerUnitPath">docker.service to take dockerd's other flags from; null: search the usual places.</param>
    public static FlannelDockerConfig PlanDropIn(string path, string? dockerUnitPath, DropInSettings settings)
    {
        var unit = dockerUnitPath ?? DockerDropIn.FindDockerUnit();
        UnitExecStart? existing = null;
        if (unit is not null)
        {
            if (!File.Exists(unit))
                throw new FlannelException("FlannelDockerUnitNotFound", FlannelErrorCategory.ObjectNotFound,
                    $"Docker unit file '{unit}' does not exist. Pass the docker.service to read dockerd's flags from, or omit -DockerUnitPath.", unit);
            existing = DockerDropIn.ParseExecStart(File.ReadAllText(unit));
        }
        var execStart = DockerDropIn.BuildExecStart(existing, settings);
        var content = DockerDropIn.Render(execStart, settings);
        var changed = !File.Exists(path) || File.ReadAllText(path) != content;
        return new FlannelDockerConfig
        {
            Method = DockerConfigMethod.DropIn,
            Path = path,
            Content = content,
            ExecStart = execStart,
            Changed = changed,
            Writes = changed ? [(path, content)] : [],
        };
    }

    /// <summary>Merges bip and mtu (and the inverted ip-masq unless <paramref name="noIpMasq"/>) from subnet.env.</summary>
    public static FlannelDockerConfig PlanDaemonJson(string path, string subnetFile, bool noIpMasq)
    {
        var env = SubnetEnvFile.Read(subnetFile) ?? throw new SubnetFileNotFoundException(subnetFile);
        var target = BridgeTarget.FromSubnetEnv(env.Values, subnetFile);
        var values = new Dictionary<string, JsonNode>(StringComparer.Ordinal)
        {
            ["bip"] = JsonValue.Create(target.Cidr),
            ["mtu"] = JsonValue.Create(target.Mtu),
        };
        if (!noIpMasq && env.Values.TryGetValue("FLANNEL_IPMASQ", out var masq) && masq.Length > 0)
        {
            values["ip-masq"] = DockerOptions.DockerIpMasq(masq); // the inversion mk-docker-opts does
        }
        var statePath = DockerDaemonJson.StatePathFor(path);
        var existing = File.Exists(path) ? File.ReadAllText(path) : null;
        var state = File.Exists(statePath) ? File.ReadAllText(statePath) : null;
        var edit = DockerDaemonJson.Merge(existing, values, state, path);
        var changed = existing != edit.Json || state != edit.StateJson;
        return new FlannelDockerConfig
        {
            Method = DockerConfigMethod.DaemonJson,
            Path = path,
            Content = edit.Json,
            Keys = edit.KeysSet,
            Changed = changed,
            // The record goes first: if writing daemon.json then fails, Uninstall still knows.
            Writes = changed ? [(statePath, edit.StateJson!), (path, edit.Json)] : [],
        };
    }

    public static FlannelDockerConfig PlanRemoveDropIn(string path, bool force)
    {
        if (!File.Exists(path))
            return new FlannelDockerConfig { Method = DockerConfigMethod.DropIn, Path = path };
        if (!force && !DockerDropIn.IsOurs(File.ReadAllText(path)))
            throw new FlannelException("FlannelDropInNotOwned", FlannelErrorCategory.InvalidOperation,
                $"'{path}' was not written by Install-FlannelDockerDropIn (its first line is not FlannelPS's marker), so it was left alone. Use -Force to remove it anyway.", path);
        return new FlannelDockerConfig { Method = DockerConfigMethod.DropIn, Path = path, Changed = true, Deletes = [path] };
    }

    public static FlannelDockerConfig PlanRemoveDaemonJson(string path)
    {
        var statePath = DockerDaemonJson.StatePathFor(path);
        if (!File.Exists(statePath))
            return new FlannelDockerConfig { Method = DockerConfigMethod.DaemonJson, Path = path };
        var existing = File.Exists(path) ? File.ReadAllText(path) : null;
        var edit = DockerDaemonJson.Remove(existing, File.ReadAllText(statePath), path);
        var writes = existing is not null && existing != edit.Json ? new[] { (path, edit.Json) } : [];
        return new FlannelDockerConfig
        {
            Method = DockerConfigMethod.DaemonJson,
            Path = path,
            Content = existing is null ? null : edit.Json,
            Keys = edit.KeysSet,
            KeysSkipped = edit.KeysSkipped,
            Changed = true,
            Writes = writes,
            Deletes = [statePath],
        };
    }

    /// <summary>Performs a plan's writes (atomic, 0644) and deletes. A drop-in directory left empty is removed.</summary>
    public static void Apply(FlannelDockerConfig plan)
    {
        foreach (var (path, content) in plan.Writes) AtomicFile.WriteAllText(path, content);
        foreach (var path in plan.Deletes)
        {
            try
            {
                File.Delete(path);
                var dir = Path.GetDirectoryName(path);
                if (plan.Method == DockerConfigMethod.DropIn && dir is not null
                    && dir.EndsWith(".service.d", StringComparison.Ordinal) && !Directory.EnumerateFileSystemEntries(dir).Any())
                    Directory.Delete(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new FlannelException("FlannelFileDeleteFailed", FlannelErrorCategory.PermissionDenied,
                    string.Create(CultureInfo.InvariantCulture, $"Cannot remove '{path}': {ex.Message}"), path, ex);
            }
        }
    }
}
