// An eventfd that datapath threads wait on beside their packet fds. Signalling it wakes every waiting
// loop at once (it is never drained), which is how they are told to stop: a blocked read is never
// cancelled by closing its fd.
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal sealed unsafe class Waker : IDisposable
{
    private readonly FdHandle _handle;

    public Waker()
    {
        var fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0) throw Errno.Exception("eventfd", Errno.Last);
        _handle = new FdHandle(fd);
    }

    internal int Fd => _handle.Fd;

    public void Signal()
    {
        ulong one = 1;
        while (LibC.write(_handle.Fd, &one, 8) < 0 && Errno.Last == Errno.EINTR) { }
    }

    /// <summary>
    /// Blocks until <paramref name="fd"/> has <paramref name="events"/> or the waker is signalled;
    /// true when the waker fired. EINTR is retried; a timeout returns false.
    /// </summary>
    internal bool Wait(TunDevice tun, short events, int timeoutMs) => Wait(tun.Fd, events, timeoutMs);

    internal bool Wait(UdpEndpoint udp, short events, int timeoutMs) => Wait(udp.Fd, events, timeoutMs);

    private bool Wait(int fd, short events, int timeoutMs)
    {
        pollfd* fds = stackalloc pollfd[2];
        fds[0].fd = fd; fds[0].events = events; fds[0].revents = 0;
        fds[1].fd = _handle.Fd; fds[1].events = NativeMethods.POLLIN; fds[1].revents = 0;
        int rc;
        while ((rc = LibC.poll(fds, 2, timeoutMs)) < 0)
        {
            var e = Errno.Last;
            if (e != Errno.EINTR) throw Errno.Exception("poll", e);
        }
        return rc > 0 && (fds[1].revents & NativeMethods.POLLIN) != 0;
    }

    public void Dispose() => _handle.Dispose();
}
