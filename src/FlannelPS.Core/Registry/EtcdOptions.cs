// How to reach etcd: flannel's --etcd-* flags, with FLANNELD_* environment defaults.
namespace FlannelPS.Core.Registry;

public sealed record EtcdOptions
{
    public const string DefaultEndpoint = "http://127.0.0.1:2379";
    public const string DefaultPrefix = "/coreos.com/network";
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(5);

    public IReadOnlyList<string> Endpoints { get; init; } = [DefaultEndpoint];
    public string Prefix { get; init; } = DefaultPrefix;
    public string? CAFile { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    /// <summary>Bound on each etcd call, so an unreachable store is an error, never a hang.</summary>
    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;

    public string EndpointList => string.Join(",", Endpoints);

    /// <summary>The prefix cleaned as Go's path.Clean does (no duplicate or trailing slashes; a leading
    /// slash only if it had one). Keys under it are the same as under <see cref="Prefix"/>.</summary>
    public string CleanPrefix => EtcdKeyPath.Clean(Prefix);

    /// <summary>&lt;prefix&gt;/config, joined as flanneld joins it (Go's path.Join).</summary>
    public string ConfigKey => EtcdKeyPath.Join(Prefix, "config");

    /// <summary>&lt;prefix&gt;/subnets/, the range holding every lease key; a lease key is this plus "10.0.72.0-24".</summary>
    public string SubnetsPrefix => EtcdKeyPath.Join(Prefix, "subnets") + "/";
}
