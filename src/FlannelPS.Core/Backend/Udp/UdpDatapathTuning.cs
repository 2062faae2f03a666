// Diagnostic settings of the udp datapath, off by default: a periodic stats line (what the datapath
// bench reads to show no GC ran during a transfer) and the loop thread's scheduler slice. The
// module reads them from FLANNELPS_DATAPATH_* variables (Parse); Core never reads the environment.
using System.Globalization;

namespace FlannelPS.Core.Backend.Udp;

public sealed record UdpDatapathTuning
{
    /// <summary>Seconds between stats lines (Info); unset or 0: none.</summary>
    public const string StatsIntervalVariable = "FLANNELPS_DATAPATH_STATS_SECONDS";

    /// <summary>The loop thread's scheduler slice in microseconds; unset or 0: the kernel's.</summary>
    public const string SliceVariable = "FLANNELPS_DATAPATH_SLICE_US";

    public static readonly UdpDatapathTuning Default = new();

    public TimeSpan StatsInterval { get; init; }
    public TimeSpan Slice { get; init; } = Datapath.UdpForwarder.DefaultSlice;

    /// <summary>From the two variables' values (null when unset); values that do not parse are ignored.</summary>
    public static UdpDatapathTuning Parse(string? statsSeconds, string? sliceMicroseconds) => new()
    {
        StatsInterval = double.TryParse(statsSeconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : TimeSpan.Zero,
        Slice = int.TryParse(sliceMicroseconds, NumberStyles.None, CultureInfo.InvariantCulture, out var us)
            ? TimeSpan.FromMicroseconds(Math.Min(us, 100_000))
            : Datapath.UdpForwarder.DefaultSlice,
    };
}
