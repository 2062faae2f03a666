// Interface index and MTU by ioctl on a socket opened by the calling thread, so the answer is about
// that thread's network namespace (sysfs may be mounted for another one).
using System.Text;
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal static unsafe class InterfaceInfo
{
    /// <summary>Index and MTU of a link; false when no such link exists (ENODEV).</summary>
    public static bool TryGet(string name, out int index, out int mtu)
    {
        index = 0; mtu = 0;
        var nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length >= NativeMethods.IFNAMSIZ) return false;
        var fd = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) throw Errno.Exception("socket(AF_INET)", Errno.Last);
        using var handle = new FdHandle(fd);
        byte* ifr = stackalloc byte[NativeMethods.IfReqSize];
        Fill(ifr, nameBytes);
        if (LibC.ioctl(fd, NativeMethods.SIOCGIFINDEX, ifr) < 0)
        {
            var e = Errno.Last;
            if (e == Errno.ENODEV) return false;
            throw Errno.Exception($"ioctl(SIOCGIFINDEX, {name})", e);
        }
        index = *(int*)(ifr + NativeMethods.IFNAMSIZ);
        Fill(ifr, nameBytes);
        if (LibC.ioctl(fd, NativeMethods.SIOCGIFMTU, ifr) < 0) throw Errno.Exception($"ioctl(SIOCGIFMTU, {name})", Errno.Last);
        mtu = *(int*)(ifr + NativeMethods.IFNAMSIZ);
        return true;
    }

    private static void Fill(byte* ifr, byte[] name)
    {
        new Span<byte>(ifr, NativeMethods.IfReqSize).Clear();
        name.CopyTo(new Span<byte>(ifr, NativeMethods.IFNAMSIZ));
    }
}
