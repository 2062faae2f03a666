// mk-docker-opts.sh as a pure function: subnet.env values + switches + the caller's environment in,
// docker_opts.env bytes out, identical to what upstream's script writes under dash. The script works
// on its shell variables, which are the environment it was started with plus what sourcing
// subnet.env assigns, so an exported DOCKER_OPT_DNS=--dns=1.1.1.1 joins the options and an exported
// DOCKER_OPTS is the combined value's start. Export-FlannelDockerOptions and module/bin/mk-docker-opts
// both use it.
using System.Text;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;

namespace FlannelPS.Core.Docker;

public static class DockerOptions
{
    private const string OptPrefix = "DOCKER_OPT_";

    /// <summary>Renders docker_opts.env.</summary>
    /// <param name="subnetEnv">subnet.env's key/values, or null when the file is missing (upstream ignores that silently).</param>
    /// <param name="settings">The -i/-c/-k/-m switches.</param>
    /// <param name="environment">The environment the script would start with (null: none). Its
    /// <see cref="DockerOptionsSettings.Key"/> value is prepended when non-empty, its DOCKER_OPT_*
    /// variables are options, and its FLANNEL_* values count where subnet.env does not set them.</param>
    /// <exception cref="InvalidIpMasqException">FLANNEL_IPMASQ is neither true nor false (and -m was not given).</exception>
    public static FlannelDockerOptions Render(IReadOnlyDictionary<string, string>? subnetEnv, DockerOptionsSettings settings, IReadOnlyDictionary<string, string>? environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ValidateKey(settings.Key);
        var vars = ShellVariables(subnetEnv, environment);

        // Every DOCKER_OPT_* shell variable is an option, in `set` order (by name, bytewise); the
        // computed ones replace any of the same name.
        var opts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in vars)
            if (k.StartsWith(OptPrefix, StringComparison.Ordinal)) opts[k] = v;

        string? bip = null, mtu = null, ipMasq = null;
        var subnet = NonEmpty(vars, "FLANNEL_SUBNET");
        if (subnet is not null) opts[OptPrefix + "BIP"] = bip = "--bip=" + subnet;
        if (NonEmpty(vars, "FLANNEL_MTU") is { } m) opts[OptPrefix + "MTU"] = mtu = "--mtu=" + m;
        if (!settings.NoIpMasq && NonEmpty(vars, "FLANNEL_IPMASQ") is { } masq)
        {
            ipMasq = DockerIpMasq(masq) ? "--ip-masq=true" : "--ip-masq=false";
            opts[OptPrefix + "IPMASQ"] = ipMasq;
        }

        var seed = vars.GetValueOrDefault(settings.Key);
        var combined = new StringBuilder();
        if (!string.IsNullOrEmpty(seed)) combined.Append(seed).Append(' ');
        var content = new StringBuilder();
        foreach (var (name, value) in opts)
        {
            if (settings.WritesIndividual) content.Append(name).Append("=\"").Append(value).Append("\"\n");
            combined.Append(' ').Append(value);
        }
        if (settings.WritesCombined) content.Append(settings.Key).Append("=\"").Append(combined).Append("\"\n");

        return new FlannelDockerOptions
        {
            FlannelSubnet = subnet,
            Bip = bip,
            Mtu = mtu,
            IpMasq = ipMasq,
            Key = settings.Key,
            Combined = combined.ToString(),
            Individual = settings.WritesIndividual ? opts : new SortedDictionary<string, string>(StringComparer.Ordinal),
            Content = content.ToString(),
        };
    }

    /// <summary>
    /// Docker's ip-masq for a FLANNEL_IPMASQ value, inverted on purpose: when flannel masquerades
    /// traffic leaving the overlay, Docker must not, or it would also NAT container-to-remote-container
    /// traffic. Anything but "true"/"false" is upstream's error.
    /// </summary>
    public static bool DockerIpMasq(string flannelIpMasq) => flannelIpMasq switch
    {
        "true" => false,
        "false" => true,
        _ => throw new InvalidIpMasqException(flannelIpMasq),
    };

    /// <summary>Reads <paramref name="subnetFile"/> (missing is fine), renders, and atomically writes
    /// <paramref name="outputPath"/>. On an invalid FLANNEL_IPMASQ nothing is written.</summary>
    public static FlannelDockerOptions Export(string subnetFile, string outputPath, DockerOptionsSettings settings, IReadOnlyDictionary<string, string>? environment, bool write = true)
    {
        var values = EnvFile.Read(subnetFile);
        var result = Render(values, settings, environment) with
        {
            Path = Path.GetFullPath(outputPath),
            SubnetFile = Path.GetFullPath(subnetFile),
            SubnetFileFound = values is not null,
        };
        if (write) AtomicFile.WriteAllText(outputPath, result.Content);
        return result;
    }

    /// <summary>
    /// The script's shell variables once it has sourced subnet.env: the environment's variables
    /// whose names a shell can hold (dash leaves others out), with the file's assignments over them.
    /// </summary>
    internal static Dictionary<string, string> ShellVariables(IReadOnlyDictionary<string, string>? subnetEnv, IReadOnlyDictionary<string, string>? environment)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        if (environment is not null)
            foreach (var (k, v) in environment)
                if (IsShellName(k)) vars[k] = v;
        if (subnetEnv is not null)
            foreach (var (k, v) in subnetEnv) vars[k] = v;
        return vars;
    }

    private static bool IsShellName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) return false;
        foreach (var c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        return true;
    }

    private static string? NonEmpty(IReadOnlyDictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    private static void ValidateKey(string key)
    {
        if (!IsShellName(key))
            throw new FlannelException("FlannelInvalidDockerOptionsKey", FlannelErrorCategory.InvalidArgument,
                $"'{key}' is not a valid environment variable name for -Key: use letters, digits and '_', not starting with a digit (e.g. DOCKER_OPTS).", key);
    }
}

/// <summary>FLANNEL_IPMASQ is neither true nor false. The message is upstream's exact stderr text.</summary>
public sealed class InvalidIpMasqException(string value)
    : FlannelException("FlannelInvalidIpMasq", FlannelErrorCategory.InvalidData, $"Invalid value of FLANNEL_IPMASQ: {value}", value);
