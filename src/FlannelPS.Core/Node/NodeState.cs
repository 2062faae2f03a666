namespace FlannelPS.Core.Node;

public enum NodeState
{
    NotStarted,
    WaitingForConfig,
    AcquiringLease,
    Running,
    Reacquiring,
    Stopping,
    Stopped,
    Failed,
}
