// The result of rendering docker_opts.env: the file's exact content plus its parts, which
// Export-FlannelDockerOptions -PassThru emits.
namespace FlannelPS.Core.Docker;

public sealed record FlannelDockerOptions
{
    /// <summary>FLANNEL_SUBNET as the script saw it (subnet.env, else the environment), or null; what the route check looks for.</summary>
    public string? FlannelSubnet { get; init; }
    /// <summary>--bip=... or null without FLANNEL_SUBNET.</summary>
    public string? Bip { get; init; }
    /// <summary>--mtu=... or null without FLANNEL_MTU.</summary>
    public string? Mtu { get; init; }
    /// <summary>--ip-masq=... (inverted FLANNEL_IPMASQ) or null when absent or -NoIpMasq.</summary>
    public string? IpMasq { get; init; }
    /// <summary>Name of the combined variable (DOCKER_OPTS unless -Key).</summary>
    public required string Key { get; init; }
    /// <summary>The combined value, as written after KEY= (it starts with a space, as upstream's does).</summary>
    public required string Combined { get; init; }
    /// <summary>DOCKER_OPT_* name → value, in name order (the script's `set` order).</summary>
    public required IReadOnlyDictionary<string, string> Individual { get; init; }
    /// <summary>The exact file content.</summary>
    public required string Content { get; init; }
    /// <summary>Where the content was (or would be) written; null for a pure render.</summary>
    public string? Path { get; init; }
    /// <summary>The subnet.env it was computed from; null for a pure render.</summary>
    public string? SubnetFile { get; init; }
    /// <summary>False when the subnet file did not exist (upstream then silently writes empty options).</summary>
    public bool SubnetFileFound { get; init; }
}
