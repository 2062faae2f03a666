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

    /// <summary>The module's bin directory: the unit runs its flanneld-start.</summary>
    public required string BinDirectory { get; init; }

    /// <summary>How to start pwsh (FLANNELPS_PWSH), e.g. "/usr/bin/pwsh" or "/usr/bin/dotnet /x/pwsh.dll";
    /// systemd gives services neither a login PATH nor HOME, so the installer records the one it ran in.
    /// Null leaves it to find-pwsh.sh.</summary>
    public string? PwshCommand { get; init; }

    /// <summary>flanneld's flags: etcd endpoints and prefix go to FLANNEL_ETCD_ENDPOINTS/FLANNEL_ETCD_PREFIX,
    /// every other non-default value to FLANNEL_OPTIONS.</summary>
    public FlanneldSettings Flanneld { get; init; } = new();

    /// <summary>Raw flanneld flags appended to FLANNEL_OPTIONS (validated like the rest).</summary>
    public IReadOnlyList<string> AdditionalOptions { get; init; } = [];
}
