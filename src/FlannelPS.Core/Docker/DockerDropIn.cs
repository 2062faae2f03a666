// The systemd drop-in that makes docker.service read docker_opts.env and pass $DOCKER_OPTS to
// dockerd, keeping the distribution's other dockerd flags (-H fd://, --containerd=...).
using System.Text;

namespace FlannelPS.Core.Docker;

/// <param name="EnvironmentFile">The docker_opts.env systemd loads.</param>
/// <param name="DockerdPath">dockerd's path; null: the one docker.service runs, else /usr/bin/dockerd.</param>
/// <param name="Key">The variable holding the options (DOCKER_OPTS).</param>
public sealed record DropInSettings(
    string EnvironmentFile = DockerOptionsSettings.DefaultOutputPath,
    string? DockerdPath = null,
    string Key = DockerOptionsSettings.DefaultKey);

/// <summary>docker.service's effective ExecStart: the program and its arguments as written.</summary>
public sealed record UnitExecStart(string Executable, IReadOnlyList<string> Arguments);

public static class DockerDropIn
{
    public const string DefaultPath = "/etc/systemd/system/docker.service.d/flannel.conf";
    public const string FallbackDockerdPath = "/usr/bin/dockerd";

    /// <summary>First line of every drop-in FlannelPS writes; Uninstall only removes files that carry it.</summary>
    public const string Marker = "# Written by FlannelPS (Install-FlannelDockerDropIn); Uninstall-FlannelDockerDropIn removes it.";

    /// <summary>Where distributions put docker.service, in systemd's precedence order.</summary>
    public static readonly IReadOnlyList<string> UnitSearchPaths =
        ["/etc/systemd/system/docker.service", "/usr/lib/systemd/system/docker.service", "/lib/systemd/system/docker.service"];

    public static string? FindDockerUnit() => UnitSearchPaths.FirstOrDefault(File.Exists);

    /// <summary>The last non-empty ExecStart= of the [Service] section (an empty one resets the list,
    /// as in systemd); continuation lines are joined. Null when there is none.</summary>
    public static UnitExecStart? ParseExecStart(string unitText)
    {
        string? last = null;
        var inService = false;
        foreach (var line in JoinContinuations(unitText))
        {
            var t = line.Trim();
            if (t.Length == 0 || t[0] is '#' or ';') continue;
            if (t[0] == '[') { inService = t == "[Service]"; continue; }
            if (!inService || !t.StartsWith("ExecStart", StringComparison.Ordinal)) continue;
            var eq = t.IndexOf('=');
            if (eq < 0 || t[..eq].Trim() != "ExecStart") continue;
            var value = t[(eq + 1)..].Trim();
            last = value.Length == 0 ? null : value;
        }
        if (last is null) return null;
        var tokens = last.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        // systemd's prefixes (-, @, :, +, !) change how the command runs, not which program it is.
        var exe = tokens[0].TrimStart('-', '@', ':', '+', '!');
        return new UnitExecStart(exe, tokens[1..]);
    }

    /// <summary>The ExecStart line for the drop-in: dockerd, then $KEY, then the unit's other flags
    /// (any $KEY/${KEY} already there is dropped so the options are not passed twice).</summary>
    public static string BuildExecStart(UnitExecStart? existing, DropInSettings settings)
    {
        var exe = settings.DockerdPath ?? existing?.Executable ?? FallbackDockerdPath;
        var sb = new StringBuilder(exe).Append(" $").Append(settings.Key);
        foreach (var arg in existing?.Arguments ?? [])
            if (arg != "$" + settings.Key && arg != "${" + settings.Key + "}") sb.Append(' ').Append(arg);
        return sb.ToString();
    }

    public static string Render(string execStart, DropInSettings settings) =>
        $"{Marker}\n[Service]\nEnvironmentFile={settings.EnvironmentFile}\nExecStart=\nExecStart={execStart}\n";

    public static bool IsOurs(string content) => content.StartsWith(Marker, StringComparison.Ordinal);

    private static IEnumerable<string> JoinContinuations(string text)
    {
        var pending = new StringBuilder();
        foreach (var raw in text.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            if (raw.EndsWith('\\')) { pending.Append(raw, 0, raw.Length - 1).Append(' '); continue; }
            pending.Append(raw);
            yield return pending.ToString();
            pending.Clear();
        }
        if (pending.Length > 0) yield return pending.ToString();
    }
}
