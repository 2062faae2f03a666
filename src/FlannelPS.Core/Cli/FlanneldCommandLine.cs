// flanneld's command line, parsed as Go's flag package parses it (-flag and --flag, =value or a
// separate value except for booleans, "--" ends flags), then FLANNELD_* environment variables for
// every flag not given. The flanneld drop-in command maps the result onto Start-FlannelNode.
using System.Globalization;
using System.Text;

namespace FlannelPS.Core.Cli;

public sealed record FlanneldSettings
{
    public string EtcdEndpoints { get; init; } = "http://127.0.0.1:4001,http://127.0.0.1:2379";
    public string EtcdPrefix { get; init; } = "/coreos.com/network";
    public string? EtcdKeyFile { get; init; }
    public string? EtcdCertFile { get; init; }
    public string? EtcdCAFile { get; init; }
    public string? EtcdUsername { get; init; }
    public string? EtcdPassword { get; init; }
    public IReadOnlyList<string> Iface { get; init; } = [];
    public IReadOnlyList<string> IfaceRegex { get; init; } = [];
    public string? IfaceCanReach { get; init; }
    public string? PublicIP { get; init; }
    public bool IpMasq { get; init; }
    public string SubnetFile { get; init; } = "/run/flannel/subnet.env";
    public int SubnetLeaseRenewMargin { get; init; } = 60;
    public int IptablesResync { get; init; } = 5;
    public bool IptablesForwardRules { get; init; } = true;
    public string HealthzIP { get; init; } = "0.0.0.0";
    public int HealthzPort { get; init; }
    public bool Version { get; init; }
    public bool Help { get; init; }
}

/// <summary>Parse outcome: settings to run with, or an exit code and the text to print on stderr.</summary>
public sealed record FlanneldParseResult(FlanneldSettings? Settings, int ExitCode, string? Message);

public static class FlanneldCommandLine
{
    /// <summary>List and Level print as Go's "value" (a flag.Value), the others by their type.</summary>
    private enum Kind { String, Bool, Int, List, Level }

    /// <summary>A flag: how to apply a value, and (Value) how to read it back for Format; null = never formatted.</summary>
    private sealed record Flag(string Name, Kind Kind, string Usage, Func<FlanneldSettings, string, FlanneldSettings> Apply,
        Func<FlanneldSettings, IReadOnlyList<string>>? Value = null);

    private static IReadOnlyList<string> One(string? v) => v is null ? [] : [v];
    private static IReadOnlyList<string> One(bool b) => [b ? "true" : "false"];
    private static IReadOnlyList<string> One(int n) => [n.ToString(CultureInfo.InvariantCulture)];

    private static readonly Flag[] Flags =
    [
        new("etcd-endpoints", Kind.String, "a comma-delimited list of etcd endpoints", (s, v) => s with { EtcdEndpoints = v }, s => One(s.EtcdEndpoints)),
        new("etcd-prefix", Kind.String, "etcd prefix", (s, v) => s with { EtcdPrefix = v }, s => One(s.EtcdPrefix)),
        new("etcd-keyfile", Kind.String, "SSL key file used to secure etcd communication", (s, v) => s with { EtcdKeyFile = v }, s => One(s.EtcdKeyFile)),
        new("etcd-certfile", Kind.String, "SSL certification file used to secure etcd communication", (s, v) => s with { EtcdCertFile = v }, s => One(s.EtcdCertFile)),
        new("etcd-cafile", Kind.String, "SSL Certificate Authority file used to secure etcd communication", (s, v) => s with { EtcdCAFile = v }, s => One(s.EtcdCAFile)),
        new("etcd-username", Kind.String, "username for BasicAuth to etcd", (s, v) => s with { EtcdUsername = v }, s => One(s.EtcdUsername)),
        new("etcd-password", Kind.String, "password for BasicAuth to etcd", (s, v) => s with { EtcdPassword = v }, s => One(s.EtcdPassword)),
        new("iface", Kind.List, "interface to use (IP or name) for inter-host communication. Can be specified multiple times to check each option in order. Returns the first match found.", (s, v) => s with { Iface = [.. s.Iface, v] }, s => s.Iface),
        new("iface-regex", Kind.List, "regex expression to match the first interface to use (IP or name) for inter-host communication. Can be specified multiple times to check each regex in order. Returns the first match found. Regexes are checked after specific interfaces specified by the iface option have already been checked.", (s, v) => s with { IfaceRegex = [.. s.IfaceRegex, v] }, s => s.IfaceRegex),
        new("iface-can-reach", Kind.String, "detect interface to use (IP or name) for inter-host communication based on which will be used for provided IP. This is exactly the interface to use of command 'ip route get <ip-address>'", (s, v) => s with { IfaceCanReach = v }, s => One(s.IfaceCanReach)),
        new("public-ip", Kind.String, "IP accessible by other nodes for inter-host communication", (s, v) => s with { PublicIP = v }, s => One(s.PublicIP)),
        new("ip-masq", Kind.Bool, "setup IP masquerade rule for traffic destined outside of overlay network", (s, v) => s with { IpMasq = ParseBool(v) }, s => One(s.IpMasq)),
        new("subnet-file", Kind.String, "filename where env variables (subnet, MTU, ... ) will be written to", (s, v) => s with { SubnetFile = v }, s => One(s.SubnetFile)),
        new("subnet-lease-renew-margin", Kind.Int, "subnet lease renewal margin, in minutes, ranging from 1 to 1439", (s, v) => s with { SubnetLeaseRenewMargin = ParseInt(v) }, s => One(s.SubnetLeaseRenewMargin)),
        new("iptables-resync", Kind.Int, "resync period for iptables rules, in seconds", (s, v) => s with { IptablesResync = ParseInt(v) }, s => One(s.IptablesResync)),
        new("iptables-forward-rules", Kind.Bool, "add default accept rules to FORWARD chain in iptables", (s, v) => s with { IptablesForwardRules = ParseBool(v) }, s => One(s.IptablesForwardRules)),
        new("healthz-ip", Kind.String, "the IP address for healthz server to listen", (s, v) => s with { HealthzIP = v }, s => One(s.HealthzIP)),
        new("healthz-port", Kind.Int, "the port for healthz server to listen(0 to disable)", (s, v) => s with { HealthzPort = ParseInt(v) }, s => One(s.HealthzPort)),
        new("version", Kind.Bool, "print version and exit", (s, v) => s with { Version = ParseBool(v) }),
        new("v", Kind.Level, "number for the log level verbosity (accepted; FlannelPS logs at info)", (s, v) => { ParseInt(v); return s; }),
    ];

    /// <summary>flanneld v0.20.2's flags that FlannelPS does not implement (Kubernetes subnet manager,
    /// IPv6, glog's per-file controls), with whether each is a boolean (takes no separate value).</summary>
    private static readonly (string Name, bool IsBool)[] Unsupported =
    [
        ("kube-annotation-prefix", false), ("kube-api-url", false), ("kube-subnet-mgr", true), ("kubeconfig-file", false),
        ("log_backtrace_at", false), ("net-config-path", false), ("public-ipv6", false), ("set-node-network-unavailable", true),
        ("vmodule", false),
    ];

    public const string RenewMarginError = Subnet.LeaseRenewer.InvalidMarginText;

    public static FlanneldParseResult Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var settings = new FlanneldSettings();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--") break;
            if (arg.Length < 2 || arg[0] != '-') break; // first non-flag ends parsing, as in Go
            var body = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : arg[1..];
            if (body.Length == 0 || body[0] == '-' || body[0] == '=') return Fail(2, $"bad flag syntax: {arg}");
            string name = body, value = string.Empty;
            var hasValue = false;
            var eq = body.IndexOf('=');
            if (eq >= 0) { name = body[..eq]; value = body[(eq + 1)..]; hasValue = true; }
            if (name is "h" or "help") return new FlanneldParseResult(settings with { Help = true }, 0, Usage());
            var flag = Flags.FirstOrDefault(f => f.Name == name);
            if (flag is null && Array.Exists(Unsupported, u => u.Name == name))
                return Fail(2, $"flag -{name} is a flanneld flag that is not supported by FlannelPS\n{Usage()}");
            if (flag is null) return Fail(2, $"flag provided but not defined: -{name}\n{Usage()}");
            if (flag.Kind == Kind.Bool)
            {
                if (!hasValue) value = "true";
            }
            else if (!hasValue)
            {
                if (i + 1 >= args.Count) return Fail(2, $"flag needs an argument: -{name}\n{Usage()}");
                value = args[++i];
            }
            try { settings = flag.Apply(settings, value); }
            catch (FormatException) { return Fail(2, $"invalid value \"{value}\" for flag -{name}: parse error\n{Usage()}"); }
            seen.Add(name);
        }

        foreach (var flag in Flags)
        {
            if (seen.Contains(flag.Name)) continue;
            var variable = "FLANNELD_" + flag.Name.ToUpperInvariant().Replace('-', '_');
            var env = environment(variable);
            if (string.IsNullOrEmpty(env)) continue;
            try
            {
                settings = flag.Name == "iface"
                    ? env.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Aggregate(settings, flag.Apply)
                    : flag.Apply(settings, env);
            }
            catch (FormatException)
            {
                return Fail(1, $"invalid value \"{env}\" for {variable}: parse error");
            }
        }

        if (settings.Version) return new FlanneldParseResult(settings, 0, null);
        if (settings.SubnetLeaseRenewMargin is < 1 or > 1439) return Fail(1, RenewMarginError);
        if (settings.HealthzPort is < 0 or > 65535) return Fail(1, $"invalid healthz-port {settings.HealthzPort}: must be 0..65535");
        if (settings.IptablesResync < 1) return Fail(1, $"invalid iptables-resync {settings.IptablesResync}: must be at least 1 second");
        return new FlanneldParseResult(settings, 0, null);
    }

    /// <summary>The flags that reproduce <paramref name="settings"/> when parsed (values equal to
    /// flanneld's defaults are left out), as "-name=value" words in the flag table's order. The etcd
    /// endpoints and prefix are left out when <paramref name="includeEtcdLocation"/> is false: the
    /// service passes those through their own sysconfig variables.</summary>
    public static IReadOnlyList<string> Format(FlanneldSettings settings, bool includeEtcdLocation = true)
    {
        var defaults = new FlanneldSettings();
        var words = new List<string>();
        foreach (var flag in Flags)
        {
            if (flag.Value is null) continue;
            if (!includeEtcdLocation && flag.Name is "etcd-endpoints" or "etcd-prefix") continue;
            var values = flag.Value(settings);
            // A list flag is written once per value; a single value only when it differs from the default.
            if (flag.Kind != Kind.List && values.SequenceEqual(flag.Value(defaults))) continue;
            foreach (var v in values) words.Add($"-{flag.Name}={v}");
        }
        return words;
    }

    /// <summary>The usage text as Go's flag package prints it: flags sorted by name, each with its type
    /// ("value" for repeatable ones) and its default when that is not the zero value.</summary>
    public static string Usage()
    {
        var defaults = new FlanneldSettings();
        var sb = new StringBuilder("Usage: flanneld [OPTION]...\n");
        foreach (var f in Flags.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            var type = f.Kind switch { Kind.Int => " int", Kind.Bool => "", Kind.String => " string", _ => " value" };
            var line = $"  -{f.Name}{type}";
            sb.Append(line).Append(line.Length <= 4 ? "\t" : "\n    \t").Append(f.Usage);
            var value = f.Value?.Invoke(defaults) is [var single] ? single : null;
            if (value is not null && !IsZero(f.Kind, value))
                sb.Append(f.Kind == Kind.String ? $" (default \"{value}\")" : $" (default {value})");
            sb.Append('\n');
        }
        sb.Append("Not supported by FlannelPS (flanneld v0.20.2 has them): ")
          .Append(string.Join(", ", Unsupported.Select(u => "-" + u.Name))).Append('\n');
        return sb.ToString();
    }

    private static bool IsZero(Kind kind, string value) => kind switch
    {
        Kind.Bool => value == "false",
        Kind.Int => value == "0",
        _ => value.Length == 0,
    };

    private static FlanneldParseResult Fail(int code, string message) => new(null, code, message);

    private static bool ParseBool(string v) => v switch
    {
        "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
        "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
        _ => throw new FormatException(v),
    };

    private static int ParseInt(string v) =>
        int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException(v);
}
