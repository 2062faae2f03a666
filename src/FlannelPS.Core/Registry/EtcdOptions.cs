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

    /// <summary>Cleans the prefix as Go's path.Join would: one leading slash, no duplicate or trailing ones.</summary>
    public string CleanPrefix
    {
        get
        {
            var parts = Prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
            return "/" + string.Join('/', parts);
        }
    }

    public string ConfigKey => CleanPrefix.TrimEnd('/') + "/config";
    public string SubnetsPrefix => CleanPrefix.TrimEnd('/') + "/subnets/";
}
