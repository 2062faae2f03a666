// What a running node reports: state changes, its own lease's life, peers coming and going.
// The node job writes these as its output; flanneld prints them.
namespace FlannelPS.Core.Node;

public enum NodeEventKind
{
    StateChanged,
    LeaseAcquired,
    LeaseRenewed,
    LeaseLost,
    PeerAdded,
    PeerRemoved,
    ConfigError,
}

public sealed record NodeEvent(DateTimeOffset Time, NodeEventKind Kind, string Message, string? Subnet = null, string? PublicIP = null);
