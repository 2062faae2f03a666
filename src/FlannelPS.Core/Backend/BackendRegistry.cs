// The explicit list of backends FlannelPS runs; no self-registration.
using FlannelPS.Core.Backend.Alloc;
using FlannelPS.Core.Backend.HostGw;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Backend.Vxlan;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Backend;

public sealed class BackendRegistry
{
    private readonly Dictionary<string, BackendKind> _kinds = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>udp, vxlan, host-gw and alloc, each on the real host.</summary>
    public static BackendRegistry CreateDefault(UdpDatapathTuning? udpTuning = null, IHostNetwork? host = null) => new BackendRegistry()
        .Add(UdpBackend.Kind(udpTuning, host))
        .Add(VxlanBackend.Kind(host))
        .Add(HostGwBackend.Kind(host))
        .Add(AllocBackend.Kind);

    /// <summary>The default backends, for reading descriptions (Test-FlannelNode, Set-FlannelNetworkConfig).</summary>
    public static BackendRegistry Default { get; } = CreateDefault();

    public BackendRegistry Add(BackendKind kind)
    {
        _kinds[kind.Type] = kind;
        return this;
    }

    /// <summary>Shorthand for tests: a kind whose description is fixed.</summary>
    public BackendRegistry Add(string type, Func<IBackend> factory) =>
        Add(new BackendKind(type, _ => factory().Description, factory));

    public IEnumerable<BackendKind> Kinds => _kinds.Values;

    public BackendKind Get(string type) =>
        _kinds.TryGetValue(type, out var k)
            ? k
            : throw new FlannelException("FlannelBackendNotSupported", FlannelErrorCategory.NotImplemented,
                $"backend type '{type}' is not supported by FlannelPS yet (supported: {string.Join(", ", _kinds.Keys)}); set Backend.Type in the network config to one of those.",
                type);

    public IBackend Create(string type) => Get(type).Create();

    /// <summary>The description of the backend <paramref name="config"/> selects, its Backend keys validated.</summary>
    public BackendDescription Describe(NetworkConfig config) => Get(config.BackendType).Describe(config.BackendJson);
}
