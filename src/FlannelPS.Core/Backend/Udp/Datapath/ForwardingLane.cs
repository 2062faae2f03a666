// One lane of the udp datapath (see LanePlan): a dedicated thread with its own TUN queue and UDP
// socket running flannel's udp proxy loop, batched: it alternates a TUN→UDP batch (TUN
// reads, one sendmmsg) and a UDP→TUN batch (one recvmmsg, TUN writes) until both are empty, then
// waits (epoll) on TUN, socket and an eventfd (how Dispose wakes it). Both directions on one thread,
// not one per direction: a TUN write runs the receiving stack synchronously, so a reply (ping echo,
// TCP ACK) is usually queued on the TUN by the time write returns and the same thread forwards it
// without a wake-up; with two threads every reply cost a cross-thread wake-up (measured: +0.17 ms
// ping RTT). Buffers are allocated once; the loop allocates nothing per packet.
// With offloads (a TUN with virtio_net_hdr, a socket with UDP GRO) one TUN read may be a 64 KB
// super-packet, cut here into wire packets (TunSegmenter) that leave as one GSO send, and the
// datagrams received are split again and runs of one TCP flow joined (TcpCoalescer) into one TUN
// write. On the wire nothing changes: every datagram is one complete inner IPv4 packet.
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Backend.Udp.Datapath;

internal sealed class ForwardingLane : IDisposable, ITunSink
{
    /// <summary>Slots exceed the MTU by this much, so an over-MTU packet is recognised, never cut.</summary>
    private const int SlotSlack = 64;
    private const int TunReadable = 1, UdpReadable = 2, StopSignalled = 4;
    /// <summary>Receive slots on a GRO socket are 64 KB each, so fewer of them: main lane, CPU lane.</summary>
    private const int GroSlotsMain = 16, GroSlotsCpu = 4;

    private readonly TunDevice _tun;
    private readonly UdpEndpoint _udp;
    private readonly Readiness _readiness = new();
    private readonly RouteTable _routes;
    private readonly Ip4 _tunAddress;
    private readonly int _mtu;
    private readonly ILog _log;
    private readonly PacketBatch _tunBatch;
    private readonly PacketBatch _udpBatch;
    private readonly int[] _sendSlots;
    private readonly byte[] _icmp = new byte[IcmpNetUnreachable.MaxLength];
    // Offloads: where a TUN read lands (virtio header + up to 64 KB), and the receive side's joiner.
    private readonly byte[]? _tunRead;
    private readonly TcpCoalescer? _coalescer;
    private readonly int _tunReadLimit;
    private readonly Thread _thread;
    private readonly TimeSpan _slice;
    private readonly int? _nice;
    private readonly int[] _cpus;
    private readonly LaneSteering? _steering;
    private readonly bool _isMain;
    private readonly Action<Exception?> _finished;
    private volatile bool _stopping;
    // Packets the last TUN batch held: 1 means interactive traffic, sent packet by packet.
    private int _lastTunBatch = 1;
    // UDP receive mode: one datagram per recvfrom (interactive traffic) or batches (recvmmsg), and
    // how many recvfrom calls in a row found a datagram (two mean a burst).
    private bool _udpLone = true;
    private int _udpLoneRun;
    private LanePolicy.LaneWindow _window;
    // Wire packets the last batches moved (a super-packet counts its segments): what the lane policy weighs.
    private int _packetsMoved;
    private bool _gsoWasOn;
    // The peer of the packets going out and of those coming in (see PeerRun); used in place.
    private PeerRun _txRun = new(received: false);
    private PeerRun _rxRun = new(received: true);

    /// <param name="cpus">CPUs to pin the thread to; empty: not pinned.</param>
    /// <param name="steering">Told how much each wake-up moved; null when there are no CPU lanes.</param>
    /// <param name="finished">Called once from the thread when the loop ends, with the failure if any.</param>
    public ForwardingLane(string name, TunDevice tun, UdpEndpoint udp, Waker stop, RouteTable routes, Ip4 tunAddress, int mtu,
        ILog log, int batchSize, TimeSpan slice, int? nice, int[] cpus, LaneSteering? steering, bool isMain, Action<Exception?> finished)
    {
        _tun = tun;
        _udp = udp;
        _routes = routes;
        _tunAddress = tunAddress;
        _mtu = mtu;
        _log = log;
        // With offloads the TUN is read into _tunRead and only cut segments land in the batch (an
        // over-MTU packet keeps its real length there and is dropped as too long), so slots can be
        // exactly the MTU: full segments then lie back to back and one GSO send copies them as one run.
        _tunBatch = new PacketBatch(batchSize, tun.HasVirtioHeader ? mtu : mtu + SlotSlack);
        _udpBatch = udp.GroEnabled
            ? new PacketBatch(Math.Min(isMain ? GroSlotsMain : GroSlotsCpu, udp.Capacity), Ipv4Packet.MaxLength + SlotSlack)
            : new PacketBatch(Math.Min(batchSize, udp.Capacity), mtu + SlotSlack);
        _sendSlots = new int[batchSize];
        _tunReadLimit = batchSize;
        _gsoWasOn = udp.GsoEnabled;
        if (tun.HasVirtioHeader)
        {
            _tunRead = GC.AllocateArray<byte>(VirtioNetHdr.Size + Ipv4Packet.MaxLength + SlotSlack, pinned: true);
            _coalescer = new TcpCoalescer(this);
        }
        _slice = slice;
        _nice = nice;
        _cpus = cpus;
        _steering = steering;
        _isMain = isMain;
        _finished = finished;
        try
        {
            _readiness.Add(tun.Fd, TunReadable);
            _readiness.Add(udp.Fd, UdpReadable);
            _readiness.Add(stop.Fd, StopSignalled);
        }
        catch
        {
            _readiness.Dispose();
            throw;
        }
        _thread = new Thread(Loop) { Name = name, IsBackground = true };
    }

    public LaneCounters Counters { get; } = new();
    public UdpEndpoint Udp => _udp;

    public void Start() => _thread.Start();

    /// <summary>Asks the loop to end at its next wake-up (the caller signals the shared waker).</summary>
    public void RequestStop() => _stopping = true;

    public bool Join(TimeSpan timeout) => !_thread.IsAlive || _thread.Join(timeout);

    private void Loop()
    {
        try
        {
            if (_cpus.Length > 0)
            {
                int e = CpuAffinity.TryPinCurrentThread(_cpus);
                if (e != 0) _log.Warning($"udp datapath: could not pin '{_thread.Name}' to cpu {string.Join(",", _cpus)} (errno {e}); its wake-ups may not stay local");
            }
            if (_slice > TimeSpan.Zero)
            {
                int e = ThreadScheduling.TrySetSlice(_slice);
                if (e != 0) _log.Warning($"udp datapath: could not shorten the loop thread's time slice (errno {e}); wake-ups may wait behind other tasks");
            }
            if (_nice is int nice)
            {
                int e = ThreadScheduling.TrySetNice(nice);
                if (e != 0) _log.Warning($"udp datapath: could not set '{_thread.Name}' to nice {nice} (errno {e}); it competes with other tasks at its inherited priority");
            }
            const int both = TunReadable | UdpReadable;
            int ready = both, moved = 0;
            while (!_stopping)
            {
                // TUN first, as proxy.c does; then whatever the peers sent. Read only the sides poll
                // reported. A batch that comes back short has drained its side, so reading again
                // could only say EAGAIN: a wasted syscall (about 1 µs on these VMs) on the latency
                // path of every packet. Only after a full batch is there likely more: then look at
                // both sides again, so one busy direction never starves the other.
                bool more = false, wrote = false;
                if ((ready & TunReadable) != 0)
                {
                    int n = TunToUdpBatch();
                    more |= n == _tunReadLimit;
                }
                if ((ready & UdpReadable) != 0)
                {
                    int got = UdpToTunBatch(out bool again);
                    more |= again;
                    wrote = got > 0;
                }
                moved += _packetsMoved;
                _packetsMoved = 0;
                if (more) { ready = both; continue; }
                // A TUN write runs the receiving stack synchronously, so the packet's answer (ping
                // echo, TCP ACK) is usually queued on the TUN by the time write returns: read it at
                // once, as proxy.c's loop does, rather than ask poll first. When there is none, the
                // EAGAIN comes after the packet was delivered, off its path.
                if (wrote) { ready = TunReadable; continue; }
                // Published for the no-allocation test and the bench: bytes this thread ever allocated.
                Counters.LoopThreadAllocated = GC.GetAllocatedBytesForCurrentThread();
                int timeout = -1;
                if (_steering is { } steering)
                {
                    if (_isMain) { steering.MainLaneDrained(moved); timeout = steering.MainLaneTimeoutMs; }
                    else steering.CpuLaneDrained(ref _window, moved);
                }
                moved = 0;
                ready = _readiness.Wait(timeout);
                if ((ready & StopSignalled) != 0) break;
            }
            _finished(null);
        }
        catch (Exception ex)
        {
            _log.Error($"udp datapath loop '{_thread.Name}' failed: {ex.Message}");
            _finished(ex);
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
        if (_tunRead is not null) return TunToUdpBatchOffloaded();
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
        _packetsMoved += n;
        return n;
    }

    /// <summary>
    /// TunToUdpBatch on a TUN with offloads: each read (virtio header + packet or super-packet) is cut
    /// into wire packets in the batch; a full batch is sent before cutting goes on. Returns the reads.
    /// </summary>
    private int TunToUdpBatchOffloaded()
    {
        var batch = _tunBatch;
        var buffer = _tunRead!;
        var c = Counters;
        int reads = 0, n = 0, sent = 0;
        while (reads < _tunReadLimit)
        {
            int len = _tun.Read(buffer);
            if (len == 0) break;
            reads++;
            var read = buffer.AsSpan(0, len);
            bool super = len > VirtioNetHdr.Size && (buffer[1] & ~VirtioNetHdr.GsoEcn) != VirtioNetHdr.GsoNone;
            int before = n, segment = 0, cut = 0;
            while (true)
            {
                var r = TunSegmenter.Cut(read, batch, ref n, _mtu, ref segment);
                cut += n - before;
                if (r == TunSegmenter.Result.Done) break;
                if (r == TunSegmenter.Result.Invalid) { c.TunBadOffload++; break; }
                ForwardFromTun(sent, n); // batch full: send it, and cut the rest into the emptied batch
                n = sent = before = 0;
            }
            if (super && cut > 0) { c.TunSuperPackets++; c.TunSegmented += cut; }
            _packetsMoved += cut;
            // Interactive traffic: the first read goes out before the TUN is read again.
            if (reads == 1 && _lastTunBatch == 1 && n > 0) sent = ForwardFromTun(0, n);
        }
        if (n > sent) ForwardFromTun(sent, n);
        _lastTunBatch = reads;
        return reads;
    }

    /// <summary>Checks, routes and sends TUN packets [from, to) of the batch; returns <paramref name="to"/>.</summary>
    private int ForwardFromTun(int from, int to)
    {
        var batch = _tunBatch;
        var slots = _sendSlots;
        var c = Counters;
        int m = 0;
        for (int i = from; i < to; i++)
        {
            int len = batch.Lengths[i];
            c.TunRxPackets++;
            c.TunRxBytes += len;
            if (len < Ipv4Packet.MinimumHeaderLength) { c.TunTooShort++; continue; }
            if (len > _mtu) { c.TunTooLong++; continue; }
            var packet = batch.Packet(i);
            if (Ipv4Packet.Version(packet) != 4) { c.TunNotIpv4++; continue; }

            var route = _txRun.Lookup(_routes, Ipv4Packet.DestinationValue(packet));
            if (route is null)
            {
                c.NoRoute++;
                int icmpLength = IcmpNetUnreachable.TryWrite(packet, _tunAddress, _icmp);
                if (icmpLength > 0 && _tun.TryWrite(_icmp.AsSpan(0, icmpLength), out _)) c.IcmpSent++;
                continue;
            }
            if (!Ipv4Packet.TryDecrementTtl(packet)) { c.TunTtl++; continue; }

            batch.Addresses[i] = route.PublicIP.Value;
            batch.Ports[i] = route.Port;
            slots[m++] = i;
            _txRun.Count(route, len);
        }
        _txRun.End();
        if (m > 0)
        {
            c.SendErrors += _udp.SendBatch(batch, slots.AsSpan(0, m));
            if (_gsoWasOn && !_udp.GsoEnabled)
            {
                // Once per lane: the kernel refused a GSO send (EIO/EINVAL), so it now sends datagram by datagram.
                _gsoWasOn = false;
                _log.Warning($"udp datapath '{_thread.Name}': the kernel refused a UDP GSO send; sending datagram by datagram from now on");
            }
        }
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
        var c = Counters;
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
            // Never forward a truncated datagram: it would be a corrupt packet.
            if (batch.Truncated[i]) { c.UdpRxPackets++; c.UdpRxBytes += len; c.UdpTooLong++; continue; }
            int size = batch.SegmentSizes[i];
            if (size <= 0 || size >= len) { Deliver(batch.Packet(i)); continue; }
            // UDP GRO: datagrams of `size` bytes back to back, the last maybe shorter.
            var all = batch.Packet(i);
            for (int offset = 0; offset < len; offset += size) Deliver(all.Slice(offset, Math.Min(size, len - offset)));
        }
        _rxRun.End();
        if (_coalescer is { } joiner)
        {
            joiner.Flush();
            c.TunCoalesced = joiner.SuperPackets;
            c.TunCoalescedSegments = joiner.SuperPacketSegments;
        }
        return n;
    }

    /// <summary>
    /// One datagram from a peer: dropped and counted unless it is exactly one IPv4 packet (version 4,
    /// header length of 5 words or more within the datagram, total length equal to the datagram's)
    /// of at most the MTU, with TTL left; else its TTL is decremented and it goes into flannel0.
    /// </summary>
    private void Deliver(Span<byte> packet)
    {
        var c = Counters;
        int len = packet.Length;
        _packetsMoved++;
        c.UdpRxPackets++;
        c.UdpRxBytes += len;
        if (len > _mtu) { c.UdpTooLong++; return; }
        if (len < Ipv4Packet.MinimumHeaderLength) { c.UdpTooShort++; return; }
        if (Ipv4Packet.Version(packet) != 4) { c.UdpNotIpv4++; return; }
        int header = Ipv4Packet.HeaderLength(packet);
        if (header < Ipv4Packet.MinimumHeaderLength || header > len) { c.UdpBadHeaderLength++; return; }
        if (Ipv4Packet.TotalLength(packet) != len) { c.UdpLengthMismatch++; return; }
        if (!Ipv4Packet.TryDecrementTtl(packet)) { c.UdpTtl++; return; }

        if (_coalescer is { } joiner) joiner.Add(packet);
        else WriteToTun(packet);
        // Per-peer accounting after the write: the lookup is not on the packet's path.
        if (_rxRun.Lookup(_routes, Ipv4Packet.SourceValue(packet)) is { } peer) _rxRun.Count(peer, len);
    }

    private void WriteToTun(ReadOnlySpan<byte> packet) => WriteWithRoom(default, packet);

    /// <summary>The coalescer's output: one packet with its virtio header into the TUN.</summary>
    bool ITunSink.Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet) => WriteWithRoom(virtioHeader, packet);

    /// <summary>
    /// Writes one packet into the TUN, after <paramref name="virtioHeader"/> unless it is empty (then
    /// the device's plain form). The TUN queue can be momentarily full: wait for room a bounded number
    /// of times, then drop and count it.
    /// </summary>
    private bool WriteWithRoom(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int errno;
            bool written = virtioHeader.IsEmpty ? _tun.TryWrite(packet, out errno) : _tun.TryWrite(virtioHeader, packet, out errno);
            if (written) return true;
            if (errno != Errno.EAGAIN) break;
            if (!Readiness.WaitWritable(_tun.Fd, 10) && _stopping) break;
        }
        Counters.TunWriteErrors++;
        return false;
    }

    /// <summary>Closes the lane's TUN queue, socket and epoll instance; only after the thread has ended.</summary>
    public void Dispose()
    {
        _tun.Dispose();
        _udp.Dispose();
        _readiness.Dispose();
    }
}
