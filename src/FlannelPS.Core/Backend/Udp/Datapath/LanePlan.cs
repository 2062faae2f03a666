// How the udp datapath splits into lanes (threads, each with its own TUN queue and UDP socket).
// Lane 0, the main lane, is unpinned and batches (recvmmsg, sendmmsg with GSO): it carries bulk
// traffic. On a machine with two or more CPUs, lanes 1..N are CPU lanes: the kernel hands a packet
// to lane 1 + (CPU it is running on) mod N, and that lane's thread is pinned to the CPUs that map to
// it, so the wake-up that follows a packet lands on the CPU that queued it (see LaneSteering).
namespace FlannelPS.Core.Backend.Udp.Datapath;

public sealed class LanePlan
{
    /// <summary>TUN devices take at most 256 queues; far fewer lanes than that are useful.</summary>
    public const int MaxCpuLanes = 64;

    /// <summary>One lane, no CPU lanes: flannel's single-thread proxy design, batched.</summary>
    public static readonly LanePlan MainLaneOnly = new([]);

    private LanePlan(int[][] laneCpus) => LaneCpus = laneCpus;

    /// <summary>How many CPU lanes (0: the main lane does everything).</summary>
    public int CpuLanes => LaneCpus.Count;

    /// <summary>TUN queues and UDP sockets needed: the main lane's plus one per CPU lane.</summary>
    public int Queues => 1 + CpuLanes;

    /// <summary>Per CPU lane (index 0 = lane 1), the CPUs its thread is pinned to; empty: not pinned.</summary>
    public IReadOnlyList<int[]> LaneCpus { get; }

    /// <summary>
    /// The plan for a process allowed to run on <paramref name="allowedCpus"/>: <paramref name="requestedCpuLanes"/>
    /// CPU lanes (null: one per allowed CPU; 0: none), capped at <see cref="MaxCpuLanes"/>. With fewer
    /// than two CPUs every wake-up is local already, so there are none.
    /// </summary>
    public static LanePlan For(IReadOnlyList<int> allowedCpus, int? requestedCpuLanes = null)
    {
        if (requestedCpuLanes is < 0) throw new ArgumentOutOfRangeException(nameof(requestedCpuLanes), requestedCpuLanes, "The number of CPU lanes cannot be negative.");
        int lanes = Math.Min(requestedCpuLanes ?? allowedCpus.Count, MaxCpuLanes);
        if (allowedCpus.Count < 2 || lanes < 2) return MainLaneOnly;
        var cpus = new int[lanes][];
        for (int k = 0; k < lanes; k++) cpus[k] = allowedCpus.Where(c => LaneOf(c, lanes) == k + 1).ToArray();
        return new LanePlan(cpus);
    }

    /// <summary>The CPU lane (1..N) a packet handled on <paramref name="cpu"/> goes to (0 without CPU lanes).</summary>
    public int LaneOf(int cpu) => CpuLanes == 0 ? 0 : LaneOf(cpu, CpuLanes);

    /// <summary>The one mapping: the CPU-lane program (CpuSteeringPrograms) computes the same in eBPF.</summary>
    private static int LaneOf(int cpu, int lanes) => 1 + cpu % lanes;

    public override string ToString() => CpuLanes == 0
        ? "main lane only"
        : $"main lane + {CpuLanes} CPU lanes ({string.Join(", ", LaneCpus.Select((c, i) => $"{i + 1}: cpu {(c.Length == 0 ? "any" : string.Join(",", c))}"))})";
}
