// Owns one Linux file descriptor. Every fd FlannelPS opens lives in one of these so it is closed
// exactly once, even when a finalizer has to do it.
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal sealed class FdHandle : SafeHandle
{
    public FdHandle(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor; valid while the handle is not closed.</summary>
    public int Fd => (int)handle.ToInt64();

    // close() is never retried on EINTR: on Linux the fd is released even when close is interrupted.
    protected override bool ReleaseHandle() => LibC.close((int)handle.ToInt64()) == 0;
}
