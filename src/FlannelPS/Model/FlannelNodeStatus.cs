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
        Subnet = status.Subnet;
        PublicIP = status.PublicIP;
        Interface = status.Interface;
        BackendType = status.BackendType;
        Mtu = status.Mtu;
        LeaseExpiration = status.LeaseExpiration;
        IsReservation = status.IsReservation;
        SubnetFile = status.SubnetFile;
        Peers = status.Peers.ToArray();
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
    public string? Subnet { get; }
    public string? PublicIP { get; }
    public string? Interface { get; }
    public string? BackendType { get; }
    public int Mtu { get; }
    public DateTimeOffset? LeaseExpiration { get; }
    public bool IsReservation { get; }
    public string SubnetFile { get; }
    /// <summary>Other nodes' leases, with per-peer packet and byte counters.</summary>
    public PeerInfo[] Peers { get; }
    public int PeerCount { get; }
    /// <summary>Datapath totals and drops by reason.</summary>
    public Core.Backend.BackendStatistics Statistics { get; }
    public DateTimeOffset? StartedAt { get; }
    public string? LastError { get; }
}
