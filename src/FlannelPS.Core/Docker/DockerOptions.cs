// mk-docker-opts.sh as a pure function: subnet.env values + switches + the current value of the
// combined variable in, docker_opts.env bytes out, identical to what upstream's script writes
// under dash. Export-FlannelDockerOptions and module/bin/mk-docker-opts both use it.
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
    /// <param name="currentValue">The environment's current value of <see cref="DockerOptionsSettings.Key"/>, prepended when non-empty.</param>
    /// <exception cref="InvalidIpMasqException">FLANNEL_IPMASQ is neither true nor false (and -m was not given).</exception>
    public static FlannelDockerOptions Render(IReadOnlyDictionary<string, string>? subnetEnv, DockerOptionsSettings settings, string? currentValue)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ValidateKey(settings.Key);
        subnetEnv ??= new Dictionary<string, string>();

        // The script's shell variables after sourcing the file: its DOCKER_OPT_* lines and a
        // file-defined KEY take part exactly as the computed ones do.
        var opts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in subnetEnv)
            if (k.StartsWith(OptPrefix, StringComparison.Ordinal)) opts[k] = v;

        string? bip = null, mtu = null, ipMasq = null;
        if (NonEmpty(subnetEnv, "FLANNEL_SUBNET") is { } subnet) opts[OptPrefix + "BIP"] = bip = "--bip=" + subnet;
        if (NonEmpty(subnetEnv, "FLANNEL_MTU") is { } m) opts[OptPrefix + "MTU"] = mtu = "--mtu=" + m;
        if (!settings.NoIpMasq && NonEmpty(subnetEnv, "FLANNEL_IPMASQ") is { } masq)
        {
            ipMasq = DockerIpMasq(masq) ? "--ip-masq=true" : "--ip-masq=false";
            opts[OptPrefix + "IPMASQ"] = ipMasq;
        }

        var seed = subnetEnv.TryGetValue(settings.Key, out var fromFile) ? fromFile : currentValue;
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
    public static FlannelDockerOptions Export(string subnetFile, string outputPath, DockerOptionsSettings settings, string? currentValue, bool write = true)
    {
        var values = EnvFile.Read(subnetFile);
        var result = Render(values, settings, currentValue) with
        {
            Path = Path.GetFullPath(outputPath),
            SubnetFile = Path.GetFullPath(subnetFile),
            SubnetFileFound = values is not null,
        };
        if (write) AtomicFile.WriteAllText(outputPath, result.Content);
        return result;
    }

    private static string? NonEmpty(IReadOnlyDictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    private static void ValidateKey(string key)
    {
        var ok = key.Length > 0 && !char.IsAsciiDigit(key[0]);
        foreach (var c in key) ok &= char.IsAsciiLetterOrDigit(c) || c == '_';
        if (!ok)
            throw new FlannelException("FlannelInvalidDockerOptionsKey", FlannelErrorCategory.InvalidArgument,
                $"'{key}' is not a valid environment variable name for -Key: use letters, digits and '_', not starting with a digit (e.g. DOCKER_OPTS).", key);
    }
}

/// <summary>FLANNEL_IPMASQ is neither true nor false. The message is upstream's exact stderr text.</summary>
public sealed class InvalidIpMasqException(string value)
    : FlannelException("FlannelInvalidIpMasq", FlannelErrorCategory.InvalidData, $"Invalid value of FLANNEL_IPMASQ: {value}", value);
