// The two files of the rpm route, rendered pure: flanneld.service (Type=notify, ordered before
// Docker) and the /etc/sysconfig/flanneld-style environment file it loads. The unit runs
// bin/flanneld-start, which resolves FLANNEL_ETCD_ENDPOINTS || FLANNEL_ETCD and
// FLANNEL_ETCD_PREFIX || FLANNEL_ETCD_KEY: systemd's ${VAR} has no fallback form.
using System.Text;
using FlannelPS.Core.Cli;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Service;

public static class ServiceFiles
{
    /// <summary>First line of both files; Uninstall-FlannelService removes only files that carry it.</summary>
    public const string Marker = "# Written by FlannelPS (Install-FlannelService); Uninstall-FlannelService removes it.";

    public const string StartScriptName = "flanneld-start";

    public static bool IsOurs(string content) => content.StartsWith(Marker, StringComparison.Ordinal);

    /// <summary>The unit's ExecStart: sh runs the script so a lost exec bit (package installs) does not matter.</summary>
    public static string ExecStart(FlannelServiceSettings settings) =>
        $"/bin/sh {QuoteUnitWord(Path.Combine(settings.BinDirectory, StartScriptName))} $FLANNEL_OPTIONS";

    public static string RenderUnit(FlannelServiceSettings settings) =>
        $"""
        {Marker}
        [Unit]
        Description=flannel overlay network node (FlannelPS flanneld)
        Wants=network-online.target
        After=network-online.target etcd.service
        Before=docker.service

        [Service]
        Type=notify
        NotifyAccess=all
        EnvironmentFile=-{EscapeUnitValue(settings.EnvironmentFilePath)}
        ExecStart={ExecStart(settings)}
        Restart=always
        RestartSec=5

        [Install]
        WantedBy=multi-user.target
        RequiredBy=docker.service

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>FLANNEL_OPTIONS as words: every non-default flag but the etcd location, then the extra ones.</summary>
    public static IReadOnlyList<string> OptionWords(FlannelServiceSettings settings) =>
        [.. FlanneldCommandLine.Format(settings.Flanneld, includeEtcdLocation: false), .. settings.AdditionalOptions];

    public static string RenderEnvironment(FlannelServiceSettings settings)
    {
        Validate(settings);
        var sb = new StringBuilder();
        sb.Append(Marker).Append('\n');
        sb.Append("# flanneld's settings for ").Append(settings.Name).Append(".service, in the /etc/sysconfig/flanneld style.\n");
        sb.Append("# Edit, then `systemctl restart ").Append(settings.Name).Append("`. Values are read by systemd and by sh:\n");
        sb.Append("# inside \"...\" a backslash goes before \\ \" $ and `. FLANNEL_OPTIONS is then split into words as sh\n");
        sb.Append("# splits a command line, so a word with $ \\ ' \" ; or a space needs more: -iface-regex=^eth1$ is written\n");
        sb.Append("# ").Append(SysconfigQuoting.Options(["-iface-regex=^eth1$"])).Append(" (Install-FlannelService does this for you).\n\n");
        sb.Append("# etcd endpoints, comma-separated. When empty, the older FLANNEL_ETCD is used.\n");
        sb.Append("FLANNEL_ETCD_ENDPOINTS=").Append(SysconfigQuoting.Value(settings.Flanneld.EtcdEndpoints)).Append("\n\n");
        sb.Append("# The etcd prefix holding <prefix>/config and <prefix>/subnets. When empty, the older FLANNEL_ETCD_KEY is used.\n");
        sb.Append("FLANNEL_ETCD_PREFIX=").Append(SysconfigQuoting.Value(settings.Flanneld.EtcdPrefix)).Append("\n\n");
        sb.Append("# Further flanneld flags (see `flanneld --help`).\n");
        sb.Append("FLANNEL_OPTIONS=").Append(SysconfigQuoting.Options(OptionWords(settings))).Append('\n');
        return sb.ToString();
    }

    /// <summary>Refuses values the two files cannot carry, and flags flanneld would reject (parsed
    /// back exactly as flanneld-start will pass them, so the service cannot fail on its own options).</summary>
    public static void Validate(FlannelServiceSettings settings)
    {
        CheckWord("EtcdEndpoints", settings.Flanneld.EtcdEndpoints);
        CheckWord("EtcdPrefix", settings.Flanneld.EtcdPrefix);
        CheckPath("EnvironmentFilePath", settings.EnvironmentFilePath);
        if (!IsSimpleName(settings.Name))
            throw Invalid("Name", settings.Name, "use letters, digits, '-', '_', '.' or '@'");
        var words = OptionWords(settings);
        foreach (var w in words) CheckWord("flanneld option", w);
        var args = new List<string>();
        if (settings.Flanneld.EtcdEndpoints.Length > 0) args.Add("-etcd-endpoints=" + settings.Flanneld.EtcdEndpoints);
        if (settings.Flanneld.EtcdPrefix.Length > 0) args.Add("-etcd-prefix=" + settings.Flanneld.EtcdPrefix);
        args.AddRange(words);
        var parsed = FlanneldCommandLine.Parse(args, _ => null);
        if (parsed.Settings is null || parsed.ExitCode != 0 || parsed.Settings.Help || parsed.Settings.Version)
        {
            var why = parsed.Message?.Split('\n')[0] ?? "it is not a node-running option";
            throw new FlannelException("FlannelServiceInvalidOption", FlannelErrorCategory.InvalidArgument,
                $"flanneld would reject the service's options '{string.Join(' ', words)}': {why}.", string.Join(' ', words));
        }
    }

    // A newline would end the assignment and other control characters do not survive either reading.
    private static void CheckWord(string what, string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c))
                throw Invalid(what, value, "it may not contain control characters (a tab, a newline)");
        }
    }

    // The file's own path goes into the unit (EnvironmentFile=) and into the hint's sh command line unquoted.
    private static void CheckPath(string what, string value)
    {
        foreach (var c in value)
        {
            if (c is '"' or '\\' or '$' or '`' || char.IsControl(c) || char.IsWhiteSpace(c))
                throw Invalid(what, value, "it may not contain whitespace, quotes, '\\', '$' or '`'");
        }
    }

    private static bool IsSimpleName(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@');

    private static FlannelException Invalid(string what, string value, string rule) =>
        new("FlannelServiceInvalidValue", FlannelErrorCategory.InvalidArgument,
            $"{what} '{value}' cannot go into the service files: {rule}.", value);

    // systemd unit values: '%' starts a specifier; a word with spaces needs quotes.
    private static string EscapeUnitValue(string value) => value.Replace("%", "%%", StringComparison.Ordinal);

    private static string QuoteUnitWord(string word)
    {
        var escaped = EscapeUnitValue(word).Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal);
        return escaped.Any(char.IsWhiteSpace) ? $"\"{escaped}\"" : escaped;
    }
}
