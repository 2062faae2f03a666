// The underlay UDP socket as a raw non-blocking fd with batch receive/send (recvmmsg/sendmmsg), so
// one syscall moves many datagrams. The mmsghdr/iovec/sockaddr arrays are native memory allocated
// once; each call only rewrites pointers and lengths in them.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FlannelPS.Core.Datapath;
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
    private bool _addRef;
    private int _disposed;

    private UdpEndpoint(FdHandle handle, int capacity)
    {
        _handle = handle;
        handle.DangerousAddRef(ref _addRef);
        _fd = handle.Fd;
        _capacity = capacity;
        _msgs = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MMsgHdr));
        _iovs = (IoVec*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(IoVec));
        _addrs = (SockAddrIn*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(SockAddrIn));
    }

    internal int Fd => _fd;
    public int Capacity => _capacity;

    /// <summary>Creates a UDP socket bound to address:port (host order). Port 0 lets the kernel choose.</summary>
    public static UdpEndpoint Bind(uint address, ushort port, int batchCapacity, int socketBufferBytes = 4 << 20)
    {
        var fd = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0);
        if (fd < 0) throw Errno.Exception("socket(AF_INET, SOCK_DGRAM)", Errno.Last);
        var handle = new FdHandle(fd);
        try
        {
            // Bigger buffers absorb bursts between two wake-ups of the loop; a refusal is not fatal.
            int size = socketBufferBytes;
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &size, sizeof(int));
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUFFORCE, &size, sizeof(int));
            SockAddrIn sa = default;
            sa.Family = (ushort)(int)LibC.AF_INET;
            sa.PortBE = BinaryPrimitives.ReverseEndianness(port);
            sa.AddrBE = BinaryPrimitives.ReverseEndianness(address);
            if (LibC.bind(fd, (sockaddr*)&sa, (uint)sizeof(SockAddrIn)) < 0)
            {
                var e = Errno.Last;
                throw Errno.Exception($"bind({FormatAddress(address)}:{port})", e);
            }
            return new UdpEndpoint(handle, batchCapacity);
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
        for (int i = 0; i < n; i++)
        {
            _iovs[i].Base = batch.SlotPointer(i);
            _iovs[i].Length = (nuint)batch.SlotSize;
            ref var h = ref _msgs[i].Hdr;
            h.Name = &_addrs[i];
            h.NameLen = (uint)sizeof(SockAddrIn);
            h.Iov = &_iovs[i];
            h.IovLen = 1;
            h.Control = null;
            h.ControlLen = 0;
            h.Flags = 0;
            _msgs[i].Len = 0;
        }
        int got;
        while ((got = RecvMMsg(_fd, _msgs, (uint)n, MSG_DONTWAIT | MSG_TRUNC, null)) < 0)
        {
            var e = LastError;
            if (e == Errno.EINTR) continue;
            if (e == Errno.EAGAIN) return 0;
            throw Errno.Exception("recvmmsg", e);
        }
        for (int i = 0; i < got; i++)
        {
            batch.Lengths[i] = (int)_msgs[i].Len;
            batch.Truncated[i] = (_msgs[i].Hdr.Flags & MSG_TRUNC) != 0 || (int)_msgs[i].Len > batch.SlotSize;
            batch.Addresses[i] = BinaryPrimitives.ReverseEndianness(_addrs[i].AddrBE);
            batch.Ports[i] = BinaryPrimitives.ReverseEndianness(_addrs[i].PortBE);
        }
        return got;
    }

    /// <summary>
    /// Sends the listed slots, each to its Addresses/Ports entry, with as few sendmmsg calls as the
    /// kernel allows. Returns how many failed (a failing datagram is skipped, never retried).
    /// </summary>
    public int SendBatch(PacketBatch batch, ReadOnlySpan<int> slots)
    {
        int failures = 0;
        int start = 0;
        int bound = slots.Length * 2 + 4; // every pass sends or skips at least one datagram
        while (start < slots.Length && bound-- > 0)
        {
            int n = Math.Min(slots.Length - start, _capacity);
            for (int i = 0; i < n; i++)
            {
                int s = slots[start + i];
                _iovs[i].Base = batch.SlotPointer(s);
                _iovs[i].Length = (nuint)batch.Lengths[s];
                _addrs[i].Family = (ushort)(int)LibC.AF_INET;
                _addrs[i].PortBE = BinaryPrimitives.ReverseEndianness(batch.Ports[s]);
                _addrs[i].AddrBE = BinaryPrimitives.ReverseEndianness(batch.Addresses[s]);
                _addrs[i].Zero = 0;
                ref var h = ref _msgs[i].Hdr;
                h.Name = &_addrs[i];
                h.NameLen = (uint)sizeof(SockAddrIn);
                h.Iov = &_iovs[i];
                h.IovLen = 1;
                h.Control = null;
                h.ControlLen = 0;
                h.Flags = 0;
            }
            int sent = SendMMsg(_fd, _msgs, (uint)n, 0);
            if (sent < 0)
            {
                var e = LastError;
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN)
                {
                    // Socket buffer full: wait briefly for room rather than dropping a whole batch.
                    if (WaitWritable(10)) continue;
                }
                failures++; // the first datagram of this pass is the one the kernel refused
                start++;
                continue;
            }
            start += sent;
        }
        return failures + (slots.Length - start);
    }

    private bool WaitWritable(int timeoutMs)
    {
        pollfd p = default;
        p.fd = _fd; p.events = POLLOUT;
        int rc;
        while ((rc = LibC.poll(&p, 1, timeoutMs)) < 0 && Errno.Last == Errno.EINTR) { }
        return rc > 0;
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
    }
}
