// One check's verdict about one thing (the node, a peer subnet, a rule set), with the offending
// value in the message so an operator can act on it without re-running anything.
namespace FlannelPS.Core.Health;

/// <param name="Name">Stable check name (see <see cref="HealthCheckNames"/>); scripts filter on it.</param>
/// <param name="Status">Pass, Warning, Fail or Skip.</param>
/// <param name="Message">What was found, with the value, and what was expected.</param>
/// <param name="Target">What the check looked at: a file, etcd key, device, peer subnet or iptables chain.</param>
public sealed record HealthCheckResult(string Name, HealthStatus Status, string Message, string? Target = null)
{
    public static HealthCheckResult Pass(string name, string message, string? target = null) => new(name, HealthStatus.Pass, message, target);
    public static HealthCheckResult Fail(string name, string message, string? target = null) => new(name, HealthStatus.Fail, message, target);
    public static HealthCheckResult Warn(string name, string message, string? target = null) => new(name, HealthStatus.Warning, message, target);
    public static HealthCheckResult Skip(string name, string message, string? target = null) => new(name, HealthStatus.Skip, message, target);
}

/// <summary>The check names Test-FlannelNode emits, in the order it emits them.</summary>
public static class HealthCheckNames
{
    public const string SubnetFile = "SubnetFile";
    public const string NetworkConfig = "NetworkConfig";
    public const string SubnetFileNetwork = "SubnetFileNetwork";
    public const string Lease = "Lease";
    public const string LeaseTtl = "LeaseTtl";
    public const string LeaseRange = "LeaseRange";
    public const string Device = "Device";
    public const string DeviceMtu = "DeviceMtu";
    public const string DeviceAddress = "DeviceAddress";
    public const string NetworkRoute = "NetworkRoute";
    public const string PeerRoute = "PeerRoute";
    public const string IptablesForward = "IptablesForward";
    public const string IptablesMasquerade = "IptablesMasquerade";
    public const string PeerReachable = "PeerReachable";
}
