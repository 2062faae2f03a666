// What Get-FlannelSubnetLease emits and Remove-FlannelSubnetLease accepts from the pipeline. It
// carries where it was read (etcd endpoints and prefix), so a piped lease is acted on there, by its
// own key, not wherever the next cmdlet's defaults point.
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Model;

public sealed class FlannelSubnetLease
{
    internal FlannelSubnetLease(Lease lease, EtcdOptions origin)
    {
        var prefix = origin.SubnetsPrefix;
        EtcdEndpoint = [.. origin.Endpoints];
        EtcdPrefix = origin.CleanPrefix;
        Net = lease.Subnet;
        Subnet = new Ipv4Subnet(lease.Subnet);
        PublicIP = new Ipv4Address(lease.Attrs.PublicIP);
        BackendType = lease.Attrs.BackendType ?? string.Empty;
        BackendData = lease.Attrs.BackendData;
        Expiration = lease.Expiration;
        IsReservation = lease.IsReservation;
        Key = prefix + lease.Key;
        Value = lease.Attrs.ToJson();
    }

    /// <summary>Sorts by address; prints and compares as its text, e.g. 10.0.72.0/24.</summary>
    public Ipv4Subnet Subnet { get; }
    /// <summary>Sorts by address; prints and compares as its text, e.g. 192.0.2.10.</summary>
    public Ipv4Address PublicIP { get; }
    /// <summary>Empty for udp and alloc leases, as flannel writes them.</summary>
    public string BackendType { get; }
    public string? BackendData { get; }
    /// <summary>When the lease expires; null for a reservation.</summary>
    public DateTimeOffset? Expiration { get; }
    public bool IsReservation { get; }
    /// <summary>The full etcd key, e.g. /coreos.com/network/subnets/10.0.72.0-24.</summary>
    public string Key { get; }
    public string Value { get; }
    /// <summary>The etcd endpoints the lease was read from.</summary>
    public string[] EtcdEndpoint { get; }
    /// <summary>The network's key prefix the lease was read under, e.g. /coreos.com/network.</summary>
    public string EtcdPrefix { get; }

    internal Ip4Net Net { get; }
}
