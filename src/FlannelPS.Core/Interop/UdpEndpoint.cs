// The underlay UDP socket as a raw non-blocking fd with batch receive/send (recvmmsg/sendmmsg), so
// one syscall moves many datagrams. Consecutive same-size datagrams to one peer go out as a single
// UDP GSO message (UDP_SEGMENT): the kernel cuts it into ordinary datagrams, each exactly one of
// ours, so the wire is unchanged while the send path runs once per run instead of once per packet.
// With UDP GRO on (UDP_GRO), one received message may hold many equal-size datagrams back to back
// (a peer's GSO send that crossed the path whole, or datagrams the kernel merged); a control message
// gives their size, kept per slot in PacketBatch.SegmentSizes, and the reader splits them again.
// The mmsghdr/iovec/sockaddr/cmsg arrays are native memory allocated once, one set per direction: a
// send rewrites pointers and lengths in its set; the receive set points at its batch once.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static FlannelPS.Core.Interop.NativeMethods;

namespace FlannelPS.Core.Interop;

internal sealed unsafe class UdpEndpoint : IDisposable
{
    private readonly FdHandle _handle;
    private readonly int _fd;
    private readonly int _capacity;
    private readonly MMsgHdr* _msgs;
    private readonly IoVec* _iovs;
    private readonly SockAddrIn* _addrs;
    private readonly SegmentCmsg* _cmsgs;
    // Per send message: the datagrams (batch slots) it carries; its iovecs may be fewer (see SendBatch).
    private readonly int[] _msgSlots;
    // Receive side: its own headers, pointed at one batch's slots once; a receive then only resets
    // what the kernel wrote back into the headers it filled (the loop wakes with a cold cache: every
    // line not touched before the syscall is time saved on the packet's path).
    private readonly MMsgHdr* _rxMsgs;
    private readonly IoVec* _rxIovs;
    private readonly SockAddrIn* _rxAddrs;
    private readonly byte* _rxControl;
    private PacketBatch? _rxBatch;
    private bool _addRef;
    private bool _gso;
    private long _gsoMessages, _gsoIovecs;
    private int _disposed;

    /// <summary>Room for one cmsghdr with an int (CMSG_SPACE(4) = 24), rounded up.</summary>
    private const int ControlSpace = 32;

    private UdpEndpoint(FdHandle handle, int capacity, bool gso, bool gro)
    {
        _gso = gso;
        GroEnabled = gro;
        _handle = handle;
        handle.DangerousAddRef(ref _addRef);
        _fd = handle.Fd;
        _capacity = capacity;
        _msgs = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MMsgHdr));
        _iovs = (IoVec*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(IoVec));
        _addrs = (SockAddrIn*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(SockAddrIn));
        _cmsgs = (SegmentCmsg*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(SegmentCmsg));
        _msgSlots = new int[capacity];
        _rxMsgs = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MMsgHdr));
        _rxIovs = (IoVec*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(IoVec));
        _rxAddrs = (SockAddrIn*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(SockAddrIn));
        _rxControl = (byte*)NativeMemory.AllocZeroed((nuint)capacity, ControlSpace);
    }

    /// <summary>Whether receives may return several datagrams per message (UDP_GRO accepted by the kernel).</summary>
    public bool GroEnabled { get; }

    /// <summary>Whether sends still coalesce runs with UDP GSO (off after the kernel refused one).</summary>
    public bool GsoEnabled => _gso;

    /// <summary>GSO messages sent (each carried two or more datagrams).</summary>
    public long GsoMessages => Volatile.Read(ref _gsoMessages);

    /// <summary>The iovecs those GSO messages carried: fewer than their datagrams where slots lay back to back.</summary>
    public long GsoIovecs => Volatile.Read(ref _gsoIovecs);

    internal int Fd => _fd;
    public int Capacity => _capacity;

    /// <summary>Creates a UDP socket bound to address:port (host order). Port 0 lets the kernel choose.</summary>
    public static UdpEndpoint Bind(uint address, ushort port, int batchCapacity, int socketBufferBytes = 4 << 20, bool gso = true, bool gro = false) =>
        Bind(address, port, batchCapacity, socketBufferBytes, gso, gro, reusePort: false);

    /// <summary>
    /// <paramref name="count"/> sockets bound to the same address:port, one per datapath lane (one
    /// plain socket when 1). Several form a SO_REUSEPORT group, which any other root process asking
    /// for SO_REUSEPORT could silently join: so the port is first bound without it, which fails, as a
    /// single socket would, when anyone holds it. Port 0: a port the kernel picks. All or nothing.
    /// </summary>
    public static UdpEndpoint[] BindGroup(uint address, ushort port, int count, int[] batchCapacities, bool gso = true, bool gro = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (batchCapacities.Length != count) throw new ArgumentException("One batch capacity per socket.", nameof(batchCapacities));
        if (count == 1) return [Bind(address, port, batchCapacities[0], gso: gso, gro: gro)];
        // Port 0: the kernel picks a free port for the first socket and the others join it there.
        if (port != 0) using (Bind(address, port, batchCapacity: 1, socketBufferBytes: 0, gso: false)) { }
        var bound = new UdpEndpoint[count];
        int n = 0;
        try
        {
            for (; n < count; n++)
            {
                bound[n] = Bind(address, port, batchCapacities[n], 4 << 20, gso, gro, reusePort: true);
                if (port == 0) port = bound[n].LocalPort;
            }
            return bound;
        }
        catch
        {
            for (int i = n - 1; i >= 0; i--) bound[i].Dispose();
            throw;
        }
    }

    /// <summary>Makes the eBPF program <paramref name="programFd"/> choose which socket of this socket's SO_REUSEPORT group gets each datagram.</summary>
    public void SetReusePortProgram(int programFd)
    {
        int fd = programFd;
        if (LibC.setsockopt(_fd, LibC.SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd, sizeof(int)) < 0)
            throw Errno.Exception("setsockopt(SO_ATTACH_REUSEPORT_EBPF)", Errno.Last);
    }

    private static UdpEndpoint Bind(uint address, ushort port, int batchCapacity, int socketBufferBytes, bool gso, bool gro, bool reusePort)
    {
        var fd = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0);
        if (fd < 0) throw Errno.Exception("socket(AF_INET, SOCK_DGRAM)", Errno.Last);
        var handle = new FdHandle(fd);
        try
        {
            // Bigger buffers absorb bursts between two wake-ups of the loop; a refusal is not fatal.
            int size = socketBufferBytes;
            if (size > 0)
            {
                LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &size, sizeof(int));
                LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUFFORCE, &size, sizeof(int));
            }
            int one = 1;
            if (reusePort && LibC.setsockopt(fd, LibC.SOL_SOCKET, SO_REUSEPORT, &one, sizeof(int)) < 0)
                throw Errno.Exception("setsockopt(SO_REUSEPORT)", Errno.Last);
            SockAddrIn sa = default;
            sa.Family = (ushort)(int)LibC.AF_INET;
            sa.PortBE = BinaryPrimitives.ReverseEndianness(port);
            sa.AddrBE = BinaryPrimitives.ReverseEndianness(address);
            if (LibC.bind(fd, (sockaddr*)&sa, (uint)sizeof(SockAddrIn)) < 0)
            {
                var e = Errno.Last;
                throw Errno.Exception($"bind({FormatAddress(address)}:{port})", e);
            }
            // A kernel that knows UDP_SEGMENT accepts it as a socket option (0 = per-message only).
            int zero = 0;
            bool gsoSupported = gso && LibC.setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(int)) == 0;
            int on = 1;
            bool groSupported = gro && LibC.setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(int)) == 0;
            return new UdpEndpoint(handle, batchCapacity, gsoSupported, groSupported);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The locally bound port (host order).</summary>
    public ushort LocalPort
    {
        get
        {
            SockAddrIn sa = default;
            socklen_t len = (uint)sizeof(SockAddrIn);
            if (LibC.getsockname(_fd, (sockaddr*)&sa, &len) < 0) throw Errno.Exception("getsockname", Errno.Last);
            return BinaryPrimitives.ReverseEndianness(sa.PortBE);
        }
    }

    /// <summary>
    /// Receives up to min(batch.Capacity, Capacity) datagrams without blocking; 0 when none is queued.
    /// Fills Lengths (the full datagram length, thanks to MSG_TRUNC), Truncated, Addresses and Ports.
    /// </summary>
    public int ReceiveBatch(PacketBatch batch)
    {
        int n = Math.Min(batch.Capacity, _capacity);
        if (!ReferenceEquals(batch, _rxBatch))
        {
            for (int i = 0; i < n; i++)
            {
                _rxIovs[i].Base = batch.SlotPointer(i);
                _rxIovs[i].Length = (nuint)batch.SlotSize;
                ref var h = ref _rxMsgs[i].Hdr;
                h.Name = &_rxAddrs[i];
                h.Iov = &_rxIovs[i];
                h.IovLen = 1;
                h.Control = GroEnabled ? _rxControl + i * ControlSpace : null;
                ResetReceived(i);
            }
            _rxBatch = batch;
        }
        int got;
        while ((got = RecvMMsg(_fd, _rxMsgs, (uint)n, MSG_DONTWAIT | MSG_TRUNC, null)) < 0)
        {
            var e = LastError;
            if (e == Errno.EINTR) continue;
            if (e == Errno.EAGAIN) return 0;
            throw Errno.Exception("recvmmsg", e);
        }
        for (int i = 0; i < got; i++)
        {
            batch.Lengths[i] = (int)_rxMsgs[i].Len;
            batch.Truncated[i] = (_rxMsgs[i].Hdr.Flags & MSG_TRUNC) != 0 || (int)_rxMsgs[i].Len > batch.SlotSize;
            batch.Addresses[i] = BinaryPrimitives.ReverseEndianness(_rxAddrs[i].AddrBE);
            batch.Ports[i] = BinaryPrimitives.ReverseEndianness(_rxAddrs[i].PortBE);
            batch.SegmentSizes[i] = GroEnabled ? GroSegmentSize(_rxMsgs[i].Hdr.Control, _rxMsgs[i].Hdr.ControlLen) : 0;
            ResetReceived(i);
        }
        return got;
    }

    /// <summary>
    /// Receives one datagram into slot 0 without blocking (recvfrom); 0 when none is queued, else 1,
    /// with the same fields filled as <see cref="ReceiveBatch"/>. For a lone datagram it is the cheaper
    /// call: recvmmsg sets up a batch and, after the first datagram, tries again only to find none.
    /// </summary>
    public int ReceiveOne(PacketBatch batch)
    {
        if (GroEnabled) return ReceiveOneWithControl(batch);
        SockAddrIn from;
        uint fromLength = (uint)sizeof(SockAddrIn);
        nint n;
        while ((n = RecvFrom(_fd, batch.SlotPointer(0), (nuint)batch.SlotSize, MSG_DONTWAIT | MSG_TRUNC, &from, &fromLength)) < 0)
        {
            var e = LastError;
            if (e == Errno.EINTR) continue;
            if (e == Errno.EAGAIN) return 0;
            throw Errno.Exception("recvfrom", e);
        }
        batch.Lengths[0] = (int)n; // MSG_TRUNC: the datagram's real length, even when it did not fit
        batch.Truncated[0] = n > batch.SlotSize;
        batch.Addresses[0] = BinaryPrimitives.ReverseEndianness(from.AddrBE);
        batch.Ports[0] = BinaryPrimitives.ReverseEndianness(from.PortBE);
        return 1;
    }

    /// <summary>
    /// Restores msg_namelen, the one input field the kernel overwrites in a header it fills (with the
    /// address length it wrote); msg_flags and msg_len are outputs only, set afresh on every receive.
    /// </summary>
    private void ResetReceived(int i)
    {
        _rxMsgs[i].Hdr.NameLen = (uint)sizeof(SockAddrIn);
        // With GRO the control length is both: the room offered, and on return the bytes used.
        _rxMsgs[i].Hdr.ControlLen = GroEnabled ? (nuint)ControlSpace : 0;
    }

    /// <summary>ReceiveOne on a GRO socket: recvmsg, so the segment size comes back with the data.</summary>
    private int ReceiveOneWithControl(PacketBatch batch)
    {
        SockAddrIn from;
        byte* control = stackalloc byte[ControlSpace];
        IoVec iov;
        iov.Base = batch.SlotPointer(0);
        iov.Length = (nuint)batch.SlotSize;
        MsgHdr h = default;
        h.Name = &from;
        h.NameLen = (uint)sizeof(SockAddrIn);
        h.Iov = &iov;
        h.IovLen = 1;
        h.Control = control;
        h.ControlLen = ControlSpace;
        nint n;
        while ((n = RecvMsg(_fd, &h, MSG_DONTWAIT | MSG_TRUNC)) < 0)
        {
            var e = LastError;
            if (e == Errno.EINTR) continue;
            if (e == Errno.EAGAIN) return 0;
            throw Errno.Exception("recvmsg", e);
        }
        batch.Lengths[0] = (int)n;
        batch.Truncated[0] = (h.Flags & MSG_TRUNC) != 0 || n > batch.SlotSize;
        batch.Addresses[0] = BinaryPrimitives.ReverseEndianness(from.AddrBE);
        batch.Ports[0] = BinaryPrimitives.ReverseEndianness(from.PortBE);
        batch.SegmentSizes[0] = GroSegmentSize(h.Control, h.ControlLen);
        return 1;
    }

    /// <summary>The UDP_GRO segment size among the control messages the kernel returned; 0 when there is none (a single datagram).</summary>
    private static int GroSegmentSize(void* control, nuint length)
    {
        // struct cmsghdr { size_t len; int level; int type; } then the data, each aligned to 8 bytes.
        byte* c = (byte*)control;
        nuint offset = 0;
        while (offset + 16 <= length)
        {
            nuint len = *(nuint*)(c + offset);
            if (len < 16 || offset + len > length) break;
            if (*(int*)(c + offset + 8) == SOL_UDP && *(int*)(c + offset + 12) == UDP_GRO && len >= 20) return *(int*)(c + offset + 16);
            offset += (len + 7) & ~(nuint)7;
        }
        return 0;
    }

    public int SendBatch(PacketBatch batch, ReadOnlySpan<int> slots)
    {
        if (slots.Length == 1) return SendOne(batch, slots[0]) ? 0 : 1;
        int failures = 0;
        int start = 0;
        int bound = slots.Length * 2 + 4; // every pass sends or skips at least one message
        while (start < slots.Length && bound-- > 0)
        {
            // Build messages from slots[start..]: message k covers slots[first[k] .. first[k] + count[k]).
            int msgCount = 0, iov = 0, i = start;
            while (i < slots.Length && msgCount < _capacity && iov < _capacity)
            {
                int s = slots[i];
                int len = batch.Lengths[s];
                uint addr = batch.Addresses[s];
                ushort port = batch.Ports[s];
                int count = 1, total = len;
                if (_gso)
                {
                    // Equal sizes; only the last datagram of a run may be shorter (then the run ends).
                    while (i + count < slots.Length && count < UdpMaxSegments && iov + count < _capacity)
                    {
                        int t = slots[i + count];
                        int tl = batch.Lengths[t];
                        if (batch.Addresses[t] != addr || batch.Ports[t] != port || tl > len || total + tl > UdpMaxPayload) break;
                        total += tl;
                        count++;
                        if (tl < len) break;
                    }
                }
                // Datagrams that lie back to back in the batch (full segments in slots of exactly the
                // MTU) share one iovec: the kernel's copy then runs once over the run instead of
                // restarting per 1.4 KB datagram. GSO cuts by gso_size, whatever the iovecs.
                int used = 0;
                for (int j = 0; j < count; j++)
                {
                    int t = slots[i + j];
                    byte* b = batch.SlotPointer(t);
                    nuint l = (nuint)batch.Lengths[t];
                    if (used > 0 && (byte*)_iovs[iov + used - 1].Base + _iovs[iov + used - 1].Length == b)
                    {
                        _iovs[iov + used - 1].Length += l;
                        continue;
                    }
                    _iovs[iov + used].Base = b;
                    _iovs[iov + used].Length = l;
                    used++;
                }
                _msgSlots[msgCount] = count;
                _addrs[msgCount].Family = (ushort)(int)LibC.AF_INET;
                _addrs[msgCount].PortBE = BinaryPrimitives.ReverseEndianness(port);
                _addrs[msgCount].AddrBE = BinaryPrimitives.ReverseEndianness(addr);
                _addrs[msgCount].Zero = 0;
                ref var h = ref _msgs[msgCount].Hdr;
                h.Name = &_addrs[msgCount];
                h.NameLen = (uint)sizeof(SockAddrIn);
                h.Iov = &_iovs[iov];
                h.IovLen = (nuint)used;
                if (count > 1)
                {
                    _cmsgs[msgCount].Len = (nuint)(sizeof(nuint) + 2 * sizeof(int) + sizeof(ushort));
                    _cmsgs[msgCount].Level = SOL_UDP;
                    _cmsgs[msgCount].Type = UDP_SEGMENT;
                    _cmsgs[msgCount].GsoSize = (ushort)len;
                    h.Control = &_cmsgs[msgCount];
                    h.ControlLen = (nuint)sizeof(SegmentCmsg);
                }
                else
                {
                    h.Control = null;
                    h.ControlLen = 0;
                }
                h.Flags = 0;
                msgCount++;
                iov += used;
                i += count;
            }

            int sent = SendMMsg(_fd, _msgs, (uint)msgCount, 0);
            if (sent < 0)
            {
                var e = LastError;
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN)
                {
                    // Socket buffer full: wait briefly for room rather than dropping a whole batch.
                    if (Readiness.WaitWritable(_fd, 10)) continue;
                }
                int carried = _msgSlots[0];
                if (carried > 1 && (e == EIO || e == EINVAL))
                {
                    // The path cannot take GSO (no checksum offload, or a route MTU below the
                    // segment size): send datagram by datagram from now on. Nothing was sent.
                    _gso = false;
                    continue;
                }
                failures += carried; // the first message of this pass is the one the kernel refused
                start += carried;
                continue;
            }
            for (int k = 0; k < sent; k++)
            {
                int carried = _msgSlots[k];
                if (carried > 1)
                {
                    _gsoMessages++;
                    _gsoIovecs += (long)_msgs[k].Hdr.IovLen;
                }
                start += carried;
            }
        }
        return failures + (slots.Length - start);
    }

    /// <summary>One datagram with sendto: for a lone packet cheaper than sendmmsg's message setup.</summary>
    private bool SendOne(PacketBatch batch, int slot)
    {
        SockAddrIn to = default;
        to.Family = (ushort)(int)LibC.AF_INET;
        to.PortBE = BinaryPrimitives.ReverseEndianness(batch.Ports[slot]);
        to.AddrBE = BinaryPrimitives.ReverseEndianness(batch.Addresses[slot]);
        for (int attempt = 0; attempt < 4; attempt++)
        {
            if (SendTo(_fd, batch.SlotPointer(slot), (nuint)batch.Lengths[slot], 0, &to, (uint)sizeof(SockAddrIn)) >= 0) return true;
            var e = LastError;
            if (e == Errno.EINTR) continue;
            // Socket buffer full: wait briefly for room rather than dropping, as SendBatch does.
            if (e != Errno.EAGAIN || !Readiness.WaitWritable(_fd, 10)) return false;
        }
        return false;
    }

    private static string FormatAddress(uint a) => $"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}";

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_addRef) { _addRef = false; _handle.DangerousRelease(); }
        _handle.Dispose();
        NativeMemory.Free(_msgs);
        NativeMemory.Free(_iovs);
        NativeMemory.Free(_addrs);
        NativeMemory.Free(_cmsgs);
        NativeMemory.Free(_rxMsgs);
        NativeMemory.Free(_rxIovs);
        NativeMemory.Free(_rxAddrs);
        NativeMemory.Free(_rxControl);
    }
}
