// Settings of the udp datapath: a periodic stats line (what the datapath bench reads to show no GC
// ran during a transfer; off by default), the main lane's scheduler slice (the kernel's by
// default), the main lane's nice value (-5 by default), how many CPU lanes (one per CPU by default;
// see LanePlan) and whether the TUN and socket offloads are used (by default, where the kernel has
// them). The module and the daemon read them from the FLANNELPS_DATAPATH_* variables through
// FromVariables, handing it their environment lookup; Core never reads the environment itself.
using System.Globalization;

namespace FlannelPS.Core.Backend.Udp;

public sealed record UdpDatapathTuning
{
    /// <summary>Seconds between stats lines (Info); unset or 0: none.</summary>
    public const string StatsIntervalVariable = "FLANNELPS_DATAPATH_STATS_SECONDS";

    /// <summary>The main lane's scheduler slice in microseconds; unset or 0: the kernel's (CPU lanes always take the shortest).</summary>
    public const string SliceVariable = "FLANNELPS_DATAPATH_SLICE_US";

    /// <summary>The main lane's nice value, -20..19; unset or unparsable: UdpForwarder.DefaultMainLaneNice; 0: normal priority.</summary>
    public const string NiceVariable = "FLANNELPS_DATAPATH_NICE";

    /// <summary>CPU lanes; unset: one per CPU the process may use; 0: none (one forwarding thread).</summary>
    public const string CpuLanesVariable = "FLANNELPS_DATAPATH_CPU_LANES";

    /// <summary>"0": no TUN offloads and no UDP GRO (today's packet-by-packet path); unset or anything else: on where the kernel has them.</summary>
    public const string OffloadsVariable = "FLANNELPS_DATAPATH_OFFLOADS";

    public static readonly UdpDatapathTuning Default = new();

    /// <summary>TUN offloads (virtio_net_hdr, TSO4/USO4, checksum) and UDP GRO; on by default.</summary>
    public bool Offloads { get; init; } = true;

    public TimeSpan StatsInterval { get; init; }
    public TimeSpan Slice { get; init; } = Datapath.UdpForwarder.DefaultSlice;

    /// <summary>The main lane thread's nice value (CPU lanes keep the process's).</summary>
    public int MainLaneNice { get; init; } = Datapath.UdpForwarder.DefaultMainLaneNice;

    /// <summary>null: one CPU lane per CPU; 0: none.</summary>
    public int? CpuLanes { get; init; }

    /// <summary>From the FLANNELPS_DATAPATH_* variables, looked up by <paramref name="variable"/> (Environment.GetEnvironmentVariable).</summary>
    public static UdpDatapathTuning FromVariables(Func<string, string?> variable) => Parse(
        variable(StatsIntervalVariable), variable(SliceVariable), variable(CpuLanesVariable), variable(OffloadsVariable), variable(NiceVariable));

    /// <summary>From the variables' values (null when unset); values that do not parse are ignored.</summary>
    public static UdpDatapathTuning Parse(string? statsSeconds, string? sliceMicroseconds, string? cpuLanes = null, string? offloads = null,
        string? nice = null) => new()
    {
        MainLaneNice = int.TryParse(nice, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
            CultureInfo.InvariantCulture, out var n) ? Math.Clamp(n, -20, 19) : Datapath.UdpForwarder.DefaultMainLaneNice,
        Offloads = offloads?.Trim() != "0",
        CpuLanes = int.TryParse(cpuLanes, NumberStyles.None, CultureInfo.InvariantCulture, out var lanes) ? lanes : null,
        StatsInterval = double.TryParse(statsSeconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : TimeSpan.Zero,
        Slice = int.TryParse(sliceMicroseconds, NumberStyles.None, CultureInfo.InvariantCulture, out var us)
            ? TimeSpan.FromMicroseconds(Math.Min(us, 100_000))
            : Datapath.UdpForwarder.DefaultSlice,
    };
}
