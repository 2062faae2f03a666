// A non-persistent Linux TUN device (IFF_TUN|IFF_NO_PI: raw IPv4 packets, no header). The device
// exists while this fd is open; disposing removes it from the kernel. A multi-queue device
// (IFF_MULTI_QUEUE) has one such object per queue and goes away with the last one.
using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal sealed unsafe class TunDevice : IDisposable
{
    private readonly FdHandle _handle;
    private readonly int _fd;
    private bool _addRef;

    private TunDevice(FdHandle handle, string name)
    {
        _handle = handle;
        Name = name;
        handle.DangerousAddRef(ref _addRef); // the fd stays valid for the datapath threads until Dispose
        _fd = handle.Fd;
    }

    /// <summary>The name the kernel gave the device (flannel%d → flannel0).</summary>
    public string Name { get; }

    internal int Fd => _fd;

    /// <summary>
    /// Creates a device with <paramref name="queues"/> queues (a plain device when 1): element 0
    /// creates it from the pattern, the others attach to it by name. All or nothing.
    /// </summary>
    public static TunDevice[] OpenQueues(string namePattern, int queues)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queues, 1);
        var opened = new TunDevice[queues];
        int n = 0;
        try
        {
            opened[n++] = Open(namePattern, multiQueue: queues > 1);
            while (n < queues) opened[n++] = Open(opened[0].Name, multiQueue: true);
            return opened;
        }
        catch
        {
            for (int i = n - 1; i >= 0; i--) opened[i]?.Dispose();
            throw;
        }
    }

    /// <summary>Makes the eBPF program <paramref name="programFd"/> choose each packet's queue (the whole device).</summary>
    public void SetSteeringProgram(int programFd)
    {
        int fd = programFd;
        if (LibC.ioctl(_fd, NativeMethods.TUNSETSTEERINGEBPF, &fd) < 0) throw Errno.Exception($"ioctl(TUNSETSTEERINGEBPF) on {Name}", Errno.Last);
    }

    /// <summary>Opens /dev/net/tun non-blocking and creates (or, multi-queue, joins) a device from a name pattern such as "flannel%d".</summary>
    private static TunDevice Open(string namePattern, bool multiQueue)
    {
        var nameBytes = Encoding.ASCII.GetBytes(namePattern);
        if (nameBytes.Length >= NativeMethods.IFNAMSIZ)
            throw new ArgumentException($"TUN name '{namePattern}' is longer than {NativeMethods.IFNAMSIZ - 1} characters.", nameof(namePattern));

        int fd;
        fixed (byte* path = "/dev/net/tun\0"u8)
        {
            while ((fd = LibC.open(path, LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NONBLOCK, 0)) < 0 && Errno.Last == Errno.EINTR) { }
        }
        if (fd < 0) throw Errno.Exception("open /dev/net/tun", Errno.Last);
        var handle = new FdHandle(fd);
        try
        {
            byte* ifr = stackalloc byte[NativeMethods.IfReqSize];
            new Span<byte>(ifr, NativeMethods.IfReqSize).Clear();
            nameBytes.CopyTo(new Span<byte>(ifr, NativeMethods.IFNAMSIZ));
            *(short*)(ifr + NativeMethods.IFNAMSIZ) = (short)(NativeMethods.IFF_TUN | NativeMethods.IFF_NO_PI | (multiQueue ? NativeMethods.IFF_MULTI_QUEUE : 0));
            if (LibC.ioctl(fd, NativeMethods.TUNSETIFF, ifr) < 0) throw Errno.Exception("ioctl(TUNSETIFF)", Errno.Last);
            var name = Marshal.PtrToStringAnsi((nint)ifr) ?? namePattern;
            return new TunDevice(handle, name);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads one packet; 0 when none is queued (EAGAIN). Never blocks.</summary>
    public int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = NativeMethods.Read(_fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var e = NativeMethods.LastError;
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) return 0;
                throw Errno.Exception("read(tun)", e);
            }
        }
    }

    /// <summary>Writes one packet; false when the kernel would block (EAGAIN) or rejected it.</summary>
    public bool TryWrite(ReadOnlySpan<byte> packet, out int errno)
    {
        fixed (byte* p = packet)
        {
            while (true)
            {
                nint n = NativeMethods.Write(_fd, p, (nuint)packet.Length);
                if (n >= 0) { errno = 0; return true; }
                errno = NativeMethods.LastError;
                if (errno != Errno.EINTR) return false;
            }
        }
    }

    public void Dispose()
    {
        if (_addRef) { _addRef = false; _handle.DangerousRelease(); }
        _handle.Dispose();
    }
}
