namespace FlannelPS.Core.Health;

/// <summary>Outcome of one node check. Only Fail makes a node unhealthy; Skip means "not applicable here".</summary>
public enum HealthStatus
{
    Pass,
    Warning,
    Fail,
    Skip,
}
