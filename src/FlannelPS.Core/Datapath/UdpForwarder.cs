// flannel's udp proxy (spec §4.3) on one dedicated thread, batched: it alternates a TUN→UDP batch
// (TUN reads, one sendmmsg) and a UDP→TUN batch (one recvmmsg, TUN writes) until both are empty,
// then waits (epoll) on TUN, socket and an eventfd (how Dispose wakes it). One thread, not one per direction:
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
    private readonly Readiness _readiness = new();
    private const int TunReadable = 1, UdpReadable = 2, StopSignalled = 4;
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
    // Packets the last TUN batch held: 1 means interactive traffic, sent packet by packet.
    private int _lastTunBatch = 1;
    // UDP receive mode: one datagram per recvfrom (interactive traffic) or batches (recvmmsg), and
    // how many recvfrom calls in a row found a datagram (two mean a burst).
    private bool _udpLone = true;
    private int _udpLoneRun;

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
        try
        {
            _readiness.Add(tun.Fd, TunReadable);
            _readiness.Add(udp.Fd, UdpReadable);
            _readiness.Add(_waker.Fd, StopSignalled);
        }
        catch
        {
            _readiness.Dispose();
            _waker.Dispose();
            throw;
        }
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
            const int both = TunReadable | UdpReadable;
            int ready = both;
            while (!_stopping)
            {
                // TUN first, as proxy.c does; then whatever the peers sent. Read only the sides poll
                // reported. A batch that comes back short has drained its side, so reading again
                // could only say EAGAIN: a wasted syscall (about 1 µs on these VMs) on the latency
                // path of every packet. Only after a full batch is there likely more: then look at
                // both sides again, so one busy direction never starves the other.
                bool more = false, wrote = false;
                if ((ready & TunReadable) != 0) more |= TunToUdpBatch() == _tunBatch.Capacity;
                if ((ready & UdpReadable) != 0)
                {
                    int got = UdpToTunBatch(out bool again);
                    more |= again;
                    wrote = got > 0;
                }
                if (more) { ready = both; continue; }
                // A TUN write runs the receiving stack synchronously, so the packet's answer (ping
                // echo, TCP ACK) is usually queued on the TUN by the time write returns: read it at
                // once, as proxy.c's loop does, rather than ask poll first. When there is none, the
                // EAGAIN comes after the packet was delivered, off its path.
                if (wrote) { ready = TunReadable; continue; }
                // Published for the no-allocation test and the bench: bytes this thread ever allocated.
                _loopThreadAllocated = GC.GetAllocatedBytesForCurrentThread();
                ready = _readiness.Wait();
                if ((ready & StopSignalled) != 0) break;
            }
            Finished(null);
        }
        catch (Exception ex)
        {
            Finished(ex);
        }
    }

    /// <summary>
    /// Reads up to one batch from the TUN and sends it; returns how many packets were read. When the
    /// previous batch was a lone packet (interactive traffic: a ping, a request), the first packet goes
    /// out before the TUN is read again, so the read that only finds the queue empty is not on its
    /// path. In a burst the packets are read first and sent together (one sendmmsg, UDP GSO).
    /// </summary>
    private int TunToUdpBatch()
    {
        var batch = _tunBatch;
        int len = _tun.Read(batch.Slot(0));
        if (len == 0) return 0;
        batch.Lengths[0] = len;
        int n = 1, sent = 0;
        if (_lastTunBatch == 1) sent = ForwardFromTun(0, 1);
        while (n < batch.Capacity)
        {
            len = _tun.Read(batch.Slot(n));
            if (len == 0) break;
            batch.Lengths[n++] = len;
        }
        if (n > sent) ForwardFromTun(sent, n);
        _lastTunBatch = n;
        return n;
    }

    /// <summary>Checks, routes and sends TUN packets [from, to) of the batch; returns <paramref name="to"/>.</summary>
    private int ForwardFromTun(int from, int to)
    {
        var batch = _tunBatch;
        var slots = _sendSlots;
        int m = 0;
        for (int i = from; i < to; i++)
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
        return to;
    }

    /// <summary>
    /// Receives from the socket and writes what arrived into the TUN; returns how many datagrams
    /// arrived, and in <paramref name="again"/> whether the socket may hold more. Interactive traffic
    /// (a ping, a request) comes a datagram at a time: then one recvfrom takes it, and the look for
    /// more comes on the next turn of the loop, after the TUN side has sent the answer the write
    /// produced. Two datagrams in a row mean a burst: then recvmmsg takes a batch at a time, until a
    /// batch finds at most one again.
    /// </summary>
    private int UdpToTunBatch(out bool again)
    {
        var batch = _udpBatch;
        int n;
        if (_udpLone)
        {
            n = _udp.ReceiveOne(batch);
            again = n == 1;
            _udpLoneRun = n == 0 ? 0 : _udpLoneRun + 1;
            if (_udpLoneRun > 1) { _udpLone = false; _udpLoneRun = 0; }
        }
        else
        {
            n = _udp.ReceiveBatch(batch);
            again = n == batch.Capacity;
            _udpLone = n <= 1;
        }
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

            WriteToTun(packet);
            // Per-peer accounting after the write: the lookup is not on the packet's path.
            var route = Routes.Lookup(Ipv4Packet.SourceValue(packet));
            if (route is not null)
            {
                route.Counters.RxPacketsField++;
                route.Counters.RxBytesField += len;
            }
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
            if (!Readiness.WaitWritable(_tun.Fd, 10) && _stopping) break;
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
        _readiness.Dispose();
        _waker.Dispose();
        _completion.TrySetResult();
    }
}
