// What Install-/Uninstall-FlannelService wrote, removed and asked systemd to do (or, with -WhatIf, would).
namespace FlannelPS.Core.Service;

public sealed record FlannelService
{
    public required string Name { get; init; }
    public required string UnitPath { get; init; }
    public required string EnvironmentFilePath { get; init; }
    /// <summary>The unit file's content; null when it is removed.</summary>
    public string? UnitContent { get; init; }
    /// <summary>The environment file's content; null when it is removed.</summary>
    public string? EnvironmentContent { get; init; }
    public string? ExecStart { get; init; }
    public string? EtcdEndpoints { get; init; }
    public string? EtcdPrefix { get; init; }
    /// <summary>FLANNEL_OPTIONS: the other flanneld flags, space-separated.</summary>
    public string? Options { get; init; }
    /// <summary>False when both files already had the wanted content (or, uninstalling, were absent).</summary>
    public bool Changed { get; init; }
    /// <summary>True where systemd is the init (/run/systemd/system exists).</summary>
    public bool SystemdRunning { get; init; }
    /// <summary>systemctl enable (install) or disable (uninstall) ran and succeeded.</summary>
    public bool Enabled { get; init; }
    /// <summary>The service was started (install) or stopped (uninstall) through systemctl.</summary>
    public bool Started { get; init; }

    /// <summary>The files written (or, with -WhatIf, that would be).</summary>
    public IReadOnlyList<string> FilesWritten => [.. Writes.Select(w => w.Path)];
    /// <summary>The files removed (or, with -WhatIf, that would be).</summary>
    public IReadOnlyList<string> FilesRemoved => Deletes;

    /// <summary>Files to write (path, content, mode) and to delete, in order; what Apply does.</summary>
    internal IReadOnlyList<(string Path, string Content, UnixFileMode Mode)> Writes { get; init; } = [];
    internal IReadOnlyList<string> Deletes { get; init; } = [];
}
