// What Set-FlannelDockerBridge did (or, with -WhatIf, would do) to the Docker bridge.
namespace FlannelPS.Core.Docker;

public sealed record FlannelDockerBridge
{
    public required string Name { get; init; }
    /// <summary>The bridge address from FLANNEL_SUBNET, e.g. 10.0.72.1/24.</summary>
    public required string Address { get; init; }
    public required int Mtu { get; init; }
    /// <summary>The bridge did not exist and was created.</summary>
    public bool Created { get; init; }
    /// <summary>The changes made, in order, each spelled as the equivalent ip command; empty when the bridge already matched.</summary>
    public required IReadOnlyList<string> Changes { get; init; }
    public bool Changed => Changes.Count > 0;
}
