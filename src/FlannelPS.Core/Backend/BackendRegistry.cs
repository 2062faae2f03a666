// The explicit list of backends FlannelPS runs; no self-registration.
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Backend;

public sealed class BackendRegistry
{
    private readonly Dictionary<string, Func<IBackend>> _factories = new(StringComparer.OrdinalIgnoreCase);

    public BackendRegistry Add(string type, Func<IBackend> factory)
    {
        _factories[type] = factory;
        return this;
    }

    public IBackend Create(string type) =>
        _factories.TryGetValue(type, out var f)
            ? f()
            : throw new FlannelException("FlannelBackendNotSupported", FlannelErrorCategory.NotImplemented,
                $"backend type '{type}' is not supported by FlannelPS yet (supported: {string.Join(", ", _factories.Keys)}); set Backend.Type in the network config to one of those.",
                type);
}
