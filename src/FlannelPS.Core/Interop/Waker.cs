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

    public void Dispose() => _handle.Dispose();
}
