// What the peer watch hands a backend: another node's lease appeared/changed, or went away.

namespace FlannelPS.Core.Subnet;

public enum LeaseEventType { Added, Removed }

/// <summary>A Removed event carries the last known lease (PublicIP etc.), as flannel's watcher does.</summary>
public sealed record LeaseEvent(LeaseEventType Type, Lease Lease);
