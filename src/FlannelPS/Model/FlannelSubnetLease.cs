// What Get-FlannelSubnetLease emits and Remove-FlannelSubnetLease accepts by property name.
using FlannelPS.Core.Subnet;

namespace FlannelPS.Model;

public sealed class FlannelSubnetLease
{
    internal FlannelSubnetLease(Lease lease, string prefix)
    {
        Subnet = lease.Subnet.ToString();
        PublicIP = lease.Attrs.PublicIP.ToString();
        BackendType = lease.Attrs.BackendType ?? string.Empty;
        BackendData = lease.Attrs.BackendData;
        Expiration = lease.Expiration;
        IsReservation = lease.IsReservation;
        Key = prefix + lease.Key;
        Value = lease.Attrs.ToJson();
    }

    public string Subnet { get; }
    public string PublicIP { get; }
    /// <summary>Empty for udp and alloc leases, as flannel writes them.</summary>
    public string BackendType { get; }
    public string? BackendData { get; }
    /// <summary>When the lease expires; null for a reservation.</summary>
    public DateTimeOffset? Expiration { get; }
    public bool IsReservation { get; }
    public string Key { get; }
    public string Value { get; }
}
