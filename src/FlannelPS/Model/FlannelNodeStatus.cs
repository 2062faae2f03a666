// What Get-FlannelNode emits: a running node's live status, tied to its job.
using FlannelPS.Core.Node;

namespace FlannelPS.Model;

public sealed class FlannelNodeStatus
{
    internal FlannelNodeStatus(int jobId, string name, NodeStatus status)
    {
        JobId = jobId;
        Name = name;
        State = status.State.ToString();
        Network = status.Network;
        Subnet = Ipv4Subnet.From(status.Subnet);
        PublicIP = Ipv4Address.From(status.PublicIP);
        Interface = status.Interface;
        BackendType = status.BackendType;
        Mtu = status.Mtu;
        LeaseExpiration = status.LeaseExpiration;
        IsReservation = status.IsReservation;
        SubnetFile = status.SubnetFile;
        Peers = [.. status.Peers.Select(p => new FlannelPeer(p))];
        PeerCount = Peers.Length;
        Statistics = status.Statistics;
        StartedAt = status.StartedAt;
        LastError = status.LastError;
    }

    public int JobId { get; }
    public string Name { get; }
    /// <summary>The node's state by name (Starting, Running, ...), so it reads the same in a table and in JSON.</summary>
    public string State { get; }
    public string? Network { get; }
    /// <summary>The node's lease once it has one; sorts by address, prints as 10.0.72.0/24.</summary>
    public Ipv4Subnet? Subnet { get; }
    public Ipv4Address? PublicIP { get; }
    public string? Interface { get; }
    public string? BackendType { get; }
    public int Mtu { get; }
    public DateTimeOffset? LeaseExpiration { get; }
    public bool IsReservation { get; }
    public string SubnetFile { get; }
    /// <summary>Other nodes' leases, with per-peer packet and byte counters.</summary>
    public FlannelPeer[] Peers { get; }
    public int PeerCount { get; }
    /// <summary>Datapath totals and drops by reason.</summary>
    public Core.Backend.BackendStatistics Statistics { get; }
    public DateTimeOffset? StartedAt { get; }
    public string? LastError { get; }
}
