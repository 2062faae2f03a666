// What Install-/Uninstall-FlannelDockerDropIn wrote or removed (or, with -WhatIf, would).
namespace FlannelPS.Core.Docker;

public enum DockerConfigMethod { DropIn, DaemonJson }

public sealed record FlannelDockerConfig
{
    public required DockerConfigMethod Method { get; init; }
    /// <summary>The drop-in file or daemon.json.</summary>
    public required string Path { get; init; }
    /// <summary>The file's new content; null when the file is removed.</summary>
    public string? Content { get; init; }
    /// <summary>The drop-in's ExecStart (DropIn only).</summary>
    public string? ExecStart { get; init; }
    /// <summary>daemon.json keys set or removed (DaemonJson only).</summary>
    public IReadOnlyList<string> Keys { get; init; } = [];
    /// <summary>daemon.json keys Uninstall left alone because they were changed after Install.</summary>
    public IReadOnlyList<string> KeysSkipped { get; init; } = [];
    /// <summary>False when everything was already as wanted (nothing written).</summary>
    public bool Changed { get; init; }
    public bool Restarted { get; init; }

    /// <summary>Files to write (path, content) and delete, in order; what Apply does.</summary>
    internal IReadOnlyList<(string Path, string Content)> Writes { get; init; } = [];
    internal IReadOnlyList<string> Deletes { get; init; } = [];
}
