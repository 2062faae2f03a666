// What Install-FlannelService is asked for: where the unit and its sysconfig-style environment
// file go, and the flanneld flags the service runs with.
using FlannelPS.Core.Cli;

namespace FlannelPS.Core.Service;

public sealed record FlannelServiceSettings
{
    public const string DefaultName = "flanneld";
    public const string DefaultUnitPath = "/etc/systemd/system/flanneld.service";
    public const string DefaultEnvironmentFilePath = "/etc/sysconfig/flanneld";

    /// <summary>The unit's name without ".service" (systemctl enable NAME).</summary>
    public string Name { get; init; } = DefaultName;
    public string UnitPath { get; init; } = DefaultUnitPath;
    public string EnvironmentFilePath { get; init; } = DefaultEnvironmentFilePath;

    /// <summary>The module's bin directory: the unit runs its flanneld-start, which runs the compiled flanneld beside it.</summary>
    public required string BinDirectory { get; init; }

    /// <summary>flanneld's flags: etcd endpoints and prefix go to FLANNEL_ETCD_ENDPOINTS/FLANNEL_ETCD_PREFIX,
    /// every other non-default value to FLANNEL_OPTIONS.</summary>
    public FlanneldSettings Flanneld { get; init; } = new();

    /// <summary>Raw flanneld flags appended to FLANNEL_OPTIONS (validated like the rest).</summary>
    public IReadOnlyList<string> AdditionalOptions { get; init; } = [];
}
