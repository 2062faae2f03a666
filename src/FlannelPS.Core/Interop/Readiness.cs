// Waits until one of a few fds is readable, through one epoll instance set up once. The datapath loop
// waits here after every packet that is not followed by another, so this wait is on the path of
// every interactive packet (a ping crosses it three times). poll(), what flannel's proxy.c uses, hooks
// the thread onto every fd's wait queue on each call and unhooks it on return, then asks every fd
// again; with epoll the fds stay registered and a wake-up hands back just the ready ones.
// Level-triggered, like poll: an fd that still has data is reported again on the next wait.
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal sealed unsafe partial class Readiness : IDisposable
{
    private const int EPOLL_CTL_ADD = 1;
    private const uint EPOLLIN = 0x1;
    private const int MaxEvents = 8;

    // struct epoll_event is packed on x86-64 (12 bytes: u32 events, u64 data) and naturally aligned
    // elsewhere (16 bytes). Only events and the low 32 bits of data are used here.
    private static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private readonly FdHandle _epoll;
    private readonly byte* _events;
    private int _disposed;

    public Readiness()
    {
        int fd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (fd < 0) throw Errno.Exception("epoll_create1", Errno.Last);
        _epoll = new FdHandle(fd);
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(MaxEvents * EventSize));
    }

    /// <summary>Watches <paramref name="fd"/> for input; <see cref="Wait"/> reports it as <paramref name="flag"/> (one bit).</summary>
    public void Add(int fd, int flag)
    {
        if (flag == 0 || (flag & (flag - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(flag), flag, "The flag must be a single bit.");
        byte* ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        *(uint*)ev = EPOLLIN;
        *(ulong*)(ev + DataOffset) = (ulong)flag;
        if (EpollCtl(_epoll.Fd, EPOLL_CTL_ADD, fd, ev) < 0) throw Errno.Exception($"epoll_ctl(ADD, fd {fd})", Marshal.GetLastSystemError());
    }

    /// <summary>
    /// Blocks until a watched fd is readable (or has an error or hang-up, which its read will surface)
    /// or <paramref name="timeoutMs"/> passes (-1 = no limit); returns the OR of the ready fds' flags, 0 on timeout.
    /// </summary>
    public int Wait(int timeoutMs = -1)
    {
        int n;
        while ((n = EpollWait(_epoll.Fd, _events, MaxEvents, timeoutMs)) < 0)
        {
            int e = Marshal.GetLastSystemError();
            if (e != Errno.EINTR) throw Errno.Exception("epoll_wait", e);
        }
        int ready = 0;
        for (int i = 0; i < n; i++) ready |= (int)*(uint*)(_events + i * EventSize + DataOffset);
        return ready;
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for room to write on <paramref name="fd"/> (a full TUN
    /// queue or socket buffer); true when there is. One poll, for the rare full-queue case.
    /// </summary>
    public static bool WaitWritable(int fd, int timeoutMs)
    {
        var p = new NativeMethods.PollFd { Fd = fd, Events = NativeMethods.POLLOUT };
        int rc;
        while ((rc = NativeMethods.Poll(&p, 1, timeoutMs)) < 0 && Marshal.GetLastSystemError() == Errno.EINTR) { }
        return rc > 0;
    }

    // Blittable, no SetLastError: inlined at the call site (see NativeMethods' datapath imports).
    [LibraryImport("libc", EntryPoint = "epoll_wait")]
    private static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "epoll_ctl")]
    private static partial int EpollCtl(int epfd, int op, int fd, byte* ev);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _epoll.Dispose();
        NativeMemory.Free(_events);
    }
}
