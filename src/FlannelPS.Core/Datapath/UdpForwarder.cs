// flannel's udp proxy (spec §4.3) as two dedicated threads: TUN→UDP reads packets from the TUN in
// a drain loop and sends them to their peers with sendmmsg; UDP→TUN receives batches with recvmmsg
// and writes them into the TUN. Buffers are allocated once; the loops allocate nothing per packet.
// Both threads poll an eventfd beside their packet fd, which is how Dispose wakes and stops them.
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
    private readonly Thread _tunThread;
    private readonly Thread _udpThread;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private int _running;
    private int _disposed;

    // TUN→UDP thread's counters (single writer).
    private long _tunRxPackets, _tunRxBytes, _noRoute, _tunTooShort, _tunTooLong, _tunTtl, _sendErrors, _icmpSent, _tunNotIpv4;
    // UDP→TUN thread's counters (single writer).
    private long _udpRxPackets, _udpRxBytes, _udpTooShort, _udpTooLong, _udpTtl, _tunWriteErrors, _udpNotIpv4;
    // Bytes each loop thread had allocated after its last batch (GC.GetAllocatedBytesForCurrentThread).
    private long _tunThreadAllocated, _udpThreadAllocated;

    internal UdpForwarder(TunDevice tun, UdpEndpoint udp, RouteTable routes, Ip4 tunAddress, int mtu, ILog log, int batchSize = 32)
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
        _tunThread = new Thread(TunToUdpLoop) { Name = $"flannel {tun.Name}→udp", IsBackground = true };
        _udpThread = new Thread(UdpToTunLoop) { Name = $"flannel udp→{tun.Name}", IsBackground = true };
    }

    public RouteTable Routes { get; }
    public int Mtu => _mtu;
    public string TunName => _tun.Name;

    /// <summary>Completes when both loops have stopped; faulted with the reason when one failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Packets not forwarded because they were not IPv4 (both directions).</summary>
    public long DroppedNotIpv4 => Volatile.Read(ref _tunNotIpv4) + Volatile.Read(ref _udpNotIpv4);

    /// <summary>ICMP net-unreachable replies written into the TUN.</summary>
    public long IcmpUnreachableSent => Volatile.Read(ref _icmpSent);

    internal long TunThreadAllocatedBytes => Volatile.Read(ref _tunThreadAllocated);
    internal long UdpThreadAllocatedBytes => Volatile.Read(ref _udpThreadAllocated);

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (Interlocked.Exchange(ref _running, 2) != 0) throw new InvalidOperationException("The forwarder is already started.");
        _tunThread.Start();
        _udpThread.Start();
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

    private void TunToUdpLoop()
    {
        try
        {
            var batch = _tunBatch;
            var slots = _sendSlots;
            while (!_stopping)
            {
                int n = 0;
                while (n < batch.Capacity)
                {
                    int len = _tun.Read(batch.Slot(n));
                    if (len == 0) break;
                    batch.Lengths[n++] = len;
                }
                if (n == 0)
                {
                    if (_waker.Wait(_tun, NativeMethods.POLLIN, -1)) break;
                    continue;
                }

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
                _tunThreadAllocated = GC.GetAllocatedBytesForCurrentThread();
            }
            Finished(null);
        }
        catch (Exception ex)
        {
            Finished(ex);
        }
    }

    private void UdpToTunLoop()
    {
        try
        {
            var batch = _udpBatch;
            while (!_stopping)
            {
                int n = _udp.ReceiveBatch(batch);
                if (n == 0)
                {
                    if (_waker.Wait(_udp, NativeMethods.POLLIN, -1)) break;
                    continue;
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

                    var route = Routes.Lookup(Ipv4Packet.SourceValue(packet));
                    if (route is not null)
                    {
                        route.Counters.RxPacketsField++;
                        route.Counters.RxBytesField += len;
                    }
                    WriteToTun(packet);
                }
                _udpThreadAllocated = GC.GetAllocatedBytesForCurrentThread();
            }
            Finished(null);
        }
        catch (Exception ex)
        {
            Finished(ex);
        }
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
            // One loop failing makes the datapath useless: stop the other one too.
            _stopping = true;
            _waker.Signal();
            return;
        }
        if (Interlocked.Decrement(ref _running) == 0) _completion.TrySetResult();
    }

    /// <summary>Wakes both loops, joins them, then closes the TUN (the device disappears) and the socket.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        _waker.Signal();
        var joined = true;
        if (_tunThread.IsAlive) joined &= _tunThread.Join(JoinTimeout);
        if (_udpThread.IsAlive) joined &= _udpThread.Join(JoinTimeout);
        if (!joined)
        {
            // A loop stuck in a syscall still holds raw fd numbers: leak rather than risk it touching a reused fd.
            _log.Error("udp datapath threads did not stop within 5 s; leaving their descriptors open");
            _completion.TrySetException(new TimeoutException("udp datapath threads did not stop"));
            return;
        }
        _tun.Dispose();
        _udp.Dispose();
        _waker.Dispose();
        _completion.TrySetResult();
    }
}
