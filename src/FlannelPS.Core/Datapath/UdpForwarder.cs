// flannel's udp proxy (spec §4.3) on one dedicated thread, batched: it alternates a TUN→UDP batch
// (TUN reads, one sendmmsg) and a UDP→TUN batch (one recvmmsg, TUN writes) until both are empty,
// then polls TUN, socket and an eventfd (how Dispose wakes it). One thread, not one per direction:
// a TUN write runs the receiving stack synchronously, so a reply (ping echo, TCP ACK) is usually
// queued on the TUN by the time write returns and the same thread forwards it without a wake-up;
// with two threads every reply cost a cross-thread wake-up (measured: +0.17 ms ping RTT).
// Buffers are allocated once; the loop allocates nothing per packet.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Datapath;

public sealed class UdpForwarder : IDisposable
{
    /// <summary>Slots exceed the MTU by this much, so an over-MTU packet is recognised, never cut.</summary>
    private const int SlotSlack = 64;
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The loop thread's scheduler slice; zero leaves the kernel's. Off by default: 100 us cut the
    /// multi-ms ping outliers under CPU contention (30 → 8 of 400 pings) but on a quiet machine added
    /// 60-90 us to the median RTT (extra preemptions of the waker), a net loss in the datapath bench.
    /// </summary>
    public static readonly TimeSpan DefaultSlice = TimeSpan.Zero;

    private readonly TunDevice _tun;
    private readonly UdpEndpoint _udp;
    private readonly Waker _waker = new();
    private readonly Ip4 _tunAddress;
    private readonly int _mtu;
    private readonly ILog _log;
    private readonly PacketBatch _tunBatch;
    private readonly PacketBatch _udpBatch;
    private readonly int[] _sendSlots;
    private readonly byte[] _icmp = new byte[IcmpNetUnreachable.MaxLength];
    private readonly Thread _thread;
    private readonly TimeSpan _statsInterval;
    private readonly TimeSpan _slice;
    private Timer? _statsTimer;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private int _running;
    private int _disposed;

    // Counters, written only by the loop thread.
    private long _tunRxPackets, _tunRxBytes, _noRoute, _tunTooShort, _tunTooLong, _tunTtl, _sendErrors, _icmpSent, _tunNotIpv4;
    private long _udpRxPackets, _udpRxBytes, _udpTooShort, _udpTooLong, _udpTtl, _tunWriteErrors, _udpNotIpv4;
    // Bytes the loop thread had allocated after its last batch (GC.GetAllocatedBytesForCurrentThread).
    private long _loopThreadAllocated;

    internal UdpForwarder(TunDevice tun, UdpEndpoint udp, RouteTable routes, Ip4 tunAddress, int mtu, ILog log, int batchSize = 32,
        TimeSpan statsInterval = default, TimeSpan slice = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        _tun = tun;
        _udp = udp;
        Routes = routes;
        _tunAddress = tunAddress;
        _mtu = mtu;
        _log = log;
        _tunBatch = new PacketBatch(batchSize, mtu + SlotSlack);
        _udpBatch = new PacketBatch(Math.Min(batchSize, udp.Capacity), mtu + SlotSlack);
        _sendSlots = new int[batchSize];
        _statsInterval = statsInterval;
        _slice = slice;
        _thread = new Thread(Loop) { Name = $"flannel {tun.Name}⇄udp", IsBackground = true };
    }

    public RouteTable Routes { get; }
    public int Mtu => _mtu;
    public string TunName => _tun.Name;

    /// <summary>Completes when the loop has stopped; faulted with the reason when it failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Packets not forwarded because they were not IPv4 (both directions).</summary>
    public long DroppedNotIpv4 => Volatile.Read(ref _tunNotIpv4) + Volatile.Read(ref _udpNotIpv4);

    /// <summary>ICMP net-unreachable replies written into the TUN.</summary>
    public long IcmpUnreachableSent => Volatile.Read(ref _icmpSent);

    /// <summary>UDP GSO messages sent (each carried two or more datagrams); whether GSO is still on.</summary>
    internal long GsoMessages => _udp.GsoMessages;
    internal bool GsoEnabled => _udp.GsoEnabled;

    internal long LoopThreadAllocatedBytes => Volatile.Read(ref _loopThreadAllocated);

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (Interlocked.Exchange(ref _running, 1) != 0) throw new InvalidOperationException("The forwarder is already started.");
        _thread.Start();
        if (_statsInterval > TimeSpan.Zero)
            _statsTimer = new Timer(_ => LogStatistics(), null, _statsInterval, _statsInterval);
    }

    /// <summary>
    /// One Info line with the counters and the process's GC collection counts: what a benchmark reads
    /// before and after a transfer to show the datapath caused no collection. Off unless asked for.
    /// </summary>
    public void LogStatistics()
    {
        var s = GetStatistics();
        _log.Info($"udp datapath stats: tun_rx={s.TunRxPackets} udp_rx={s.UdpRxPackets} noroute={s.DroppedNoRoute} " +
                  $"short={s.DroppedTooShort} long={s.DroppedTooLong} ttl={s.DroppedTtl} errors={s.SendErrors} " +
                  $"gc0={GC.CollectionCount(0)} gc1={GC.CollectionCount(1)} gc2={GC.CollectionCount(2)} " +
                  $"gso_msgs={_udp.GsoMessages} loop_alloc={LoopThreadAllocatedBytes}");
    }

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
        return new BackendStatistics(
            Volatile.Read(ref _tunRxPackets), Volatile.Read(ref _tunRxBytes),
            Volatile.Read(ref _udpRxPackets), Volatile.Read(ref _udpRxBytes),
            Volatile.Read(ref _noRoute),
            Volatile.Read(ref _tunTooShort) + Volatile.Read(ref _udpTooShort),
            Volatile.Read(ref _tunTooLong) + Volatile.Read(ref _udpTooLong),
            Volatile.Read(ref _tunTtl) + Volatile.Read(ref _udpTtl),
            Volatile.Read(ref _sendErrors) + Volatile.Read(ref _tunWriteErrors),
            peers);
    }

    private void Loop()
    {
        try
        {
            if (_slice > TimeSpan.Zero)
            {
                int e = ThreadScheduling.TrySetSlice(_slice);
                if (e != 0) _log.Warning($"udp datapath: could not shorten the loop thread's time slice (errno {e}); wake-ups may wait behind other tasks");
            }
            const int both = Waker.TunReadable | Waker.UdpReadable;
            int ready = both;
            while (!_stopping)
            {
                // TUN first, as proxy.c does; then whatever the peers sent. Read only the sides poll
                // reported. A batch that comes back short has drained its side, so reading again
                // could only say EAGAIN: a wasted syscall (about 1 µs on these VMs) on the latency
                // path of every packet. Only after a full batch is there likely more: then look at
                // both sides again, so one busy direction never starves the other. Anything that
                // arrives meanwhile (a reply the TUN write produced, say) makes poll return at once.
                bool more = false;
                if ((ready & Waker.TunReadable) != 0) more |= TunToUdpBatch() == _tunBatch.Capacity;
                if ((ready & Waker.UdpReadable) != 0) more |= UdpToTunBatch() == _udpBatch.Capacity;
                // Published for the no-allocation test and the bench: bytes this thread ever allocated.
                _loopThreadAllocated = GC.GetAllocatedBytesForCurrentThread();
                ready = more ? both : _waker.Wait(_tun, _udp);
                if (ready < 0) break;
            }
            Finished(null);
        }
        catch (Exception ex)
        {
            Finished(ex);
        }
    }

    /// <summary>Reads up to one batch from the TUN and sends it; returns how many packets were read.</summary>
    private int TunToUdpBatch()
    {
        var batch = _tunBatch;
        var slots = _sendSlots;
        int n = 0;
        while (n < batch.Capacity)
        {
            int len = _tun.Read(batch.Slot(n));
            if (len == 0) break;
            batch.Lengths[n++] = len;
        }
        if (n == 0) return 0;

        int m = 0;
        for (int i = 0; i < n; i++)
        {
            int len = batch.Lengths[i];
            _tunRxPackets++;
            _tunRxBytes += len;
            if (len < Ipv4Packet.MinimumHeaderLength) { _tunTooShort++; continue; }
            if (len > _mtu) { _tunTooLong++; continue; }
            var packet = batch.Packet(i);
            if (Ipv4Packet.Version(packet) != 4) { _tunNotIpv4++; continue; }

            var route = Routes.Lookup(Ipv4Packet.DestinationValue(packet));
            if (route is null)
            {
                _noRoute++;
                int icmpLength = IcmpNetUnreachable.TryWrite(packet, _tunAddress, _icmp);
                if (icmpLength > 0 && _tun.TryWrite(_icmp.AsSpan(0, icmpLength), out _)) _icmpSent++;
                continue;
            }
            if (!Ipv4Packet.TryDecrementTtl(packet)) { _tunTtl++; continue; }

            batch.Addresses[i] = route.PublicIP.Value;
            batch.Ports[i] = route.Port;
            slots[m++] = i;
            route.Counters.TxPacketsField++;
            route.Counters.TxBytesField += len;
        }
        if (m > 0) _sendErrors += _udp.SendBatch(batch, slots.AsSpan(0, m));
        return n;
    }

    /// <summary>Receives one batch from the socket and writes it into the TUN; returns how many datagrams arrived.</summary>
    private int UdpToTunBatch()
    {
        var batch = _udpBatch;
        int n = _udp.ReceiveBatch(batch);
        for (int i = 0; i < n; i++)
        {
            int len = batch.Lengths[i];
            _udpRxPackets++;
            _udpRxBytes += len;
            // Never forward a truncated datagram: it would be a corrupt packet.
            if (batch.Truncated[i] || len > _mtu) { _udpTooLong++; continue; }
            if (len < Ipv4Packet.MinimumHeaderLength) { _udpTooShort++; continue; }
            var packet = batch.Packet(i);
            if (Ipv4Packet.Version(packet) != 4) { _udpNotIpv4++; continue; }
            if (!Ipv4Packet.TryDecrementTtl(packet)) { _udpTtl++; continue; }

            var route = Routes.Lookup(Ipv4Packet.SourceValue(packet));
            if (route is not null)
            {
                route.Counters.RxPacketsField++;
                route.Counters.RxBytesField += len;
            }
            WriteToTun(packet);
        }
        return n;
    }

    private void WriteToTun(ReadOnlySpan<byte> packet)
    {
        // The TUN queue can be momentarily full: wait for room a bounded number of times, then drop.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            if (_tun.TryWrite(packet, out var errno)) return;
            if (errno != Errno.EAGAIN) break;
            if (_waker.Wait(_tun, NativeMethods.POLLOUT, 10)) break;
        }
        _tunWriteErrors++;
    }

    private void Finished(Exception? error)
    {
        if (error is not null)
        {
            _log.Error($"udp datapath loop '{Thread.CurrentThread.Name}' failed: {error.Message}");
            _completion.TrySetException(error);
            _stopping = true;
            return;
        }
        if (Interlocked.Decrement(ref _running) == 0) _completion.TrySetResult();
    }

    /// <summary>Wakes the loop, joins it, then closes the TUN (the device disappears) and the socket.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _statsTimer?.Dispose();
        if (_statsTimer is not null) LogStatistics();
        _stopping = true;
        _waker.Signal();
        var joined = !_thread.IsAlive || _thread.Join(JoinTimeout);
        if (!joined)
        {
            // A loop stuck in a syscall still holds raw fd numbers: leak rather than risk it touching a reused fd.
            _log.Error("udp datapath thread did not stop within 5 s; leaving its descriptors open");
            _completion.TrySetException(new TimeoutException("udp datapath thread did not stop"));
            return;
        }
        _tun.Dispose();
        _udp.Dispose();
        _waker.Dispose();
        _completion.TrySetResult();
    }
}
