// flannel's udp proxy (a packet read from the TUN leaves as the whole payload of one UDP datagram
// to the peer's port) as a set of forwarding lanes over one TUN device and one UDP port
// (see LanePlan, LaneSteering, ForwardingLane): the main lane, and on machines with two or more
// CPUs one pinned lane per CPU, between which the kernel steers each packet. Every lane forwards
// whatever reaches it, in both directions, with the shared route table; this class starts and
// stops them, and adds up their counters.
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Backend.Udp.Datapath;

public sealed class UdpForwarder : IDisposable
{
    /// <summary>
    /// Packets per batch on the main lane, and on a CPU lane (which hands bursts to the main lane).
    /// With offloads one TUN read is up to ~46 segments, so 64 slots sent little more than one TCP
    /// super-packet per sendmmsg. 192 measured +11% one stream, +13% four streams and 8-13% less
    /// node CPU per GB against 64 in alternating runs; 384 was no better within the noise. The gain
    /// is the segments per send, not what goes with it: 192 slots read 64 times per pass measured
    /// the same, and flushing early so no super-packet is split across two sends measured worse.
    /// Likely through fewer wake-ups of the peer's lane (one per send; each a cross-CPU IPI here).
    /// </summary>
    public const int MainLaneBatch = 192, CpuLaneBatch = 16;
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The main lane's scheduler slice; zero leaves the kernel's. Off by default: 100 us cut the
    /// multi-ms ping outliers under CPU contention (30 → 8 of 400 pings) but on a quiet machine added
    /// 60-90 us to the median RTT (extra preemptions of the waker), a net loss in the datapath bench.
    /// </summary>
    public static readonly TimeSpan DefaultSlice = TimeSpan.Zero;

    /// <summary>
    /// The main lane's nice value. Kernel forwarding (VXLAN, host-gw) runs in softirq, ahead of every
    /// task; the udp datapath is a task and competed with the containers' own: on the 2-CPU testbed
    /// the lanes spent 18-34% of their time runnable but waiting for a CPU. In alternating runs
    /// against nice 0, nice -5 measured +6% TCP one stream and +3% four streams with 2-6% less node
    /// CPU per GB; nice -10 gave four streams +11% twice, but one stream anywhere from +1% to -9%
    /// (the lane then takes CPU from the one sender it serves). SCHED_FIFO was worse (every wake-up
    /// preempts, batches shrink: 7.2 vs 8.8 Gbit/s). It takes the bigger share only while it has
    /// packets to move.
    /// </summary>
    public const int DefaultMainLaneNice = -5;

    /// <summary>
    /// The CPU lanes' slice, always the shortest the kernel allows. A lane is pinned, so it cannot
    /// move away from a CPU that another task holds: with the kernel's slice it waited behind
    /// whatever ran there (measured: a kernel thread and the runtime's JIT thread, 1.4 ms each;
    /// 6 of 320 pings over 0.4 ms). With the short one it preempts them at once (0 of 320), and
    /// since its waker is on the same CPU anyway, the median is unchanged.
    /// </summary>
    public static readonly TimeSpan CpuLaneSlice = ThreadScheduling.MinimumSlice;

    private readonly ForwardingLane[] _lanes;
    private readonly LaneSteering? _steering;
    private readonly Waker _waker;
    private readonly int _mtu;
    private readonly ILog _log;
    private readonly TimeSpan _statsInterval;
    private readonly string _tunOffloads;
    private readonly bool _groEnabled;
    private Timer? _statsTimer;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _started;
    private int _disposed;

    /// <summary>
    /// Takes ownership of one TUN queue and one bound socket per lane (<see cref="LanePlan.Queues"/>),
    /// and of <paramref name="programs"/>, which must be given when the plan has CPU lanes. On failure
    /// the caller still owns and disposes what it passed. <paramref name="slice"/> is the main lane's
    /// (see DefaultSlice); CPU lanes always take CpuLaneSlice. <paramref name="mainLaneNice"/> is the
    /// main lane's nice value (null: inherited); CPU lanes keep the inherited one.
    /// </summary>
    internal UdpForwarder(TunDevice[] tunQueues, UdpEndpoint[] sockets, LanePlan plan, CpuSteeringPrograms? programs, RouteTable routes,
        Ip4 tunAddress, int mtu, ILog log, TimeSpan statsInterval = default, TimeSpan slice = default, int? mainLaneNice = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        if (tunQueues.Length != plan.Queues || sockets.Length != plan.Queues)
            throw new ArgumentException($"The plan needs {plan.Queues} TUN queues and sockets; got {tunQueues.Length} and {sockets.Length}.");
        if ((plan.CpuLanes > 0) != (programs is not null))
            throw new ArgumentException("Steering programs are needed exactly when the plan has CPU lanes.", nameof(programs));
        Routes = routes;
        Plan = plan;
        TunName = tunQueues[0].Name;
        _tunOffloads = tunQueues[0].HasVirtioHeader ? tunQueues[0].Offloads : $"off ({tunQueues[0].Offloads})";
        _groEnabled = sockets[0].GroEnabled;
        _mtu = mtu;
        _log = log;
        _statsInterval = statsInterval;
        _waker = new Waker();
        var lanes = new List<ForwardingLane>();
        try
        {
            if (programs is not null) _steering = new LaneSteering(programs, tunQueues[0], sockets[0], log);
            for (int i = 0; i < plan.Queues; i++)
            {
                bool main = i == 0;
                // Thread names fit the kernel's 15 characters, so top and ps show which lane is which.
                var name = main ? $"{TunName}-main" : $"{TunName}-lane{i}";
                lanes.Add(new ForwardingLane(name, tunQueues[i], sockets[i], _waker, routes, tunAddress, mtu, log,
                    main ? MainLaneBatch : CpuLaneBatch, main ? slice : CpuLaneSlice, main ? mainLaneNice : null, main ? [] : plan.LaneCpus[i - 1], _steering, main, LaneFinished));
            }
        }
        catch
        {
            // Closing twice is harmless: the caller disposes the queues, sockets and programs again.
            foreach (var lane in lanes) lane.Dispose();
            _steering?.Dispose();
            _waker.Dispose();
            throw;
        }
        _lanes = [.. lanes];
    }

    public RouteTable Routes { get; }
    public int Mtu => _mtu;
    public string TunName { get; }

    /// <summary>How the datapath is split into lanes.</summary>
    public LanePlan Plan { get; }

    /// <summary>True while the kernel steers packets to the CPU lanes (false: to the main lane, or there are none).</summary>
    public bool CpuLanesActive => _steering?.CpuLanesActive ?? false;

    /// <summary>How often the steering has switched between the CPU lanes and the main lane.</summary>
    public long SteeringSwitches => _steering?.Switches ?? 0;

    /// <summary>Completes when the loops have stopped; faulted with the reason when one failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Packets not forwarded because they were not IPv4 (both directions).</summary>
    public long DroppedNotIpv4 => Sum(c => Volatile.Read(ref c.TunNotIpv4) + Volatile.Read(ref c.UdpNotIpv4));

    /// <summary>ICMP net-unreachable replies written into the TUN.</summary>
    public long IcmpUnreachableSent => Sum(c => Volatile.Read(ref c.IcmpSent));

    /// <summary>UDP GSO messages sent (each carried two or more datagrams); whether GSO is still on (main lane).</summary>
    internal long GsoMessages => _lanes.Sum(l => l.Udp.GsoMessages);
    internal long GsoIovecs => _lanes.Sum(l => l.Udp.GsoIovecs);
    internal bool GsoEnabled => _lanes[0].Udp.GsoEnabled;

    /// <summary>The offloads in use: the TUN's (or why none), UDP GSO (off after the kernel refused one) and GRO.</summary>
    public string Offloads => $"tun:{_tunOffloads} udp:gso {(GsoEnabled ? "on" : "off")},gro {(_groEnabled ? "on" : "off")}";

    /// <summary>Bytes the lane threads ever allocated, summed: constant while packets flow.</summary>
    internal long LoopThreadAllocatedBytes => Sum(c => Volatile.Read(ref c.LoopThreadAllocated));

    private long Sum(Func<LaneCounters, long> field)
    {
        long total = 0;
        foreach (var lane in _lanes) total += field(lane.Counters);
        return total;
    }

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("The forwarder is already started.");
        _running = _lanes.Length;
        foreach (var lane in _lanes) lane.Start();
        if (_statsInterval > TimeSpan.Zero)
            _statsTimer = new Timer(_ => LogStatistics(), null, _statsInterval, _statsInterval);
    }

    /// <summary>
    /// One Info line with the counters and the process's GC collection counts: what a benchmark reads
    /// before and after a transfer to show the datapath caused no collection. Off unless asked for.
    /// </summary>
    public void LogStatistics()
    {
        var s = GetUdpStatistics();
        _log.Info($"udp datapath stats: tun_rx={s.TunRxPackets} udp_rx={s.UdpRxPackets} noroute={s.DroppedNoRoute} " +
                  $"short={s.DroppedTooShort} long={s.DroppedTooLong} ttl={s.DroppedTtl} errors={s.SendErrors} " +
                  $"notipv4={s.DroppedNotIpv4} badihl={s.DroppedBadHeaderLength} badlen={s.DroppedLengthMismatch} " +
                  $"senderr={s.DroppedSendErrors} tunwriteerr={s.DroppedTunWriteErrors} badoffload={s.DroppedBadOffload} " +
                  $"tso_in={s.SuperPacketsSegmented}/{s.SegmentsSent} gro_out={s.SuperPacketsWritten}/{s.SegmentsCoalesced} " +
                  $"gc0={GC.CollectionCount(0)} gc1={GC.CollectionCount(1)} gc2={GC.CollectionCount(2)} " +
                  $"gso_msgs={GsoMessages} loop_alloc={LoopThreadAllocatedBytes} " +
                  $"lanes={_lanes.Length} steer={(s.CpuLanesActive ? "cpu" : "main")} switches={s.SteeringSwitches} " +
                  $"lane_pkts={string.Join("/", s.LanePackets)}");
    }

    /// <summary>The peers with their counters, and the udp detail.</summary>
    public BackendStatistics GetStatistics()
    {
        var routes = Routes.Routes;
        var peers = new PeerStatistics[routes.Count];
        for (int i = 0; i < peers.Length; i++)
        {
            var r = routes[i];
            peers[i] = new PeerStatistics(r.Subnet.ToString(), r.PublicIP.ToString(),
                r.Counters.TxPackets, r.Counters.TxBytes, r.Counters.RxPackets, r.Counters.RxBytes);
        }
        return new BackendStatistics(peers) { Detail = GetUdpStatistics() };
    }

    public UdpStatistics GetUdpStatistics() =>
        new(
            Sum(c => Volatile.Read(ref c.TunRxPackets)), Sum(c => Volatile.Read(ref c.TunRxBytes)),
            Sum(c => Volatile.Read(ref c.UdpRxPackets)), Sum(c => Volatile.Read(ref c.UdpRxBytes)),
            Sum(c => Volatile.Read(ref c.NoRoute)),
            Sum(c => Volatile.Read(ref c.TunTooShort) + Volatile.Read(ref c.UdpTooShort)),
            Sum(c => Volatile.Read(ref c.TunTooLong) + Volatile.Read(ref c.UdpTooLong)),
            Sum(c => Volatile.Read(ref c.TunTtl) + Volatile.Read(ref c.UdpTtl)),
            Sum(c => Volatile.Read(ref c.SendErrors) + Volatile.Read(ref c.TunWriteErrors)))
        {
            CpuLanes = Plan.CpuLanes,
            CpuLanesActive = CpuLanesActive,
            LanePackets = _lanes.Select(l => l.Counters.Packets).ToArray(),
            SteeringSwitches = SteeringSwitches,
            DroppedNotIpv4 = DroppedNotIpv4,
            DroppedBadHeaderLength = Sum(c => Volatile.Read(ref c.UdpBadHeaderLength)),
            DroppedLengthMismatch = Sum(c => Volatile.Read(ref c.UdpLengthMismatch)),
            DroppedSendErrors = Sum(c => Volatile.Read(ref c.SendErrors)),
            DroppedTunWriteErrors = Sum(c => Volatile.Read(ref c.TunWriteErrors)),
            DroppedBadOffload = Sum(c => Volatile.Read(ref c.TunBadOffload)),
            Offloads = Offloads,
            SuperPacketsSegmented = Sum(c => Volatile.Read(ref c.TunSuperPackets)),
            SegmentsSent = Sum(c => Volatile.Read(ref c.TunSegmented)),
            SuperPacketsWritten = Sum(c => Volatile.Read(ref c.TunCoalesced)),
            SegmentsCoalesced = Sum(c => Volatile.Read(ref c.TunCoalescedSegments)),
        };

    /// <summary>A lane's loop ended: one failure fails the datapath (and stops the other lanes).</summary>
    private void LaneFinished(Exception? error)
    {
        if (error is not null)
        {
            _completion.TrySetException(error);
            foreach (var lane in _lanes) lane.RequestStop();
            _waker.Signal();
            return;
        }
        if (Interlocked.Decrement(ref _running) == 0) _completion.TrySetResult();
    }

    /// <summary>Wakes the lanes, joins them, then closes the TUN queues (the device disappears) and the sockets.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _statsTimer?.Dispose();
        if (_statsTimer is not null) LogStatistics();
        foreach (var lane in _lanes) lane.RequestStop();
        _waker.Signal();
        var deadline = DateTime.UtcNow + JoinTimeout;
        foreach (var lane in _lanes)
        {
            var left = deadline - DateTime.UtcNow;
            if (!lane.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                // A loop stuck in a syscall still holds raw fd numbers: leak rather than risk it touching a reused fd.
                _log.Error("udp datapath thread did not stop within 5 s; leaving its descriptors open");
                _completion.TrySetException(new TimeoutException("udp datapath thread did not stop"));
                return;
            }
        }
        foreach (var lane in _lanes) lane.Dispose();
        _steering?.Dispose();
        _waker.Dispose();
        _completion.TrySetResult();
    }
}
