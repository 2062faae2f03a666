// One entry of the backend registry: a type name, how to read its part of the config (validating it
// with flannel's texts, and describing the backend that config gives), how to create one, and how
// to remove what it leaves in the kernel when a host switches to another backend.
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Backend;

/// <param name="Describe">Validates the Backend JSON (null when absent) and describes the backend; throws NetworkConfigInvalidException.</param>
/// <param name="Create">A new, unprepared backend.</param>
/// <param name="RemoveLeftovers">
/// Removes what this backend leaves behind after its node stopped, for a node of another backend
/// starting on the host; it is told that backend's description, so it spares what the starting
/// backend programs itself.
/// </param>
public sealed record BackendKind(
    string Type,
    Func<string?, BackendDescription> Describe,
    Func<IBackend> Create,
    Action<IHostNetwork, NetworkConfig, BackendDescription, ILog>? RemoveLeftovers = null);
