// A non-persistent Linux TUN device (IFF_TUN|IFF_NO_PI: raw IPv4 packets). The device exists while
// this fd is open; disposing removes it from the kernel. A multi-queue device (IFF_MULTI_QUEUE) has
// one such object per queue and goes away with the last one. Opened with offloads, every packet
// read or written is preceded by a virtio_net_hdr (IFF_VNET_HDR) and the kernel may hand out TCP
// and UDP super-packets of up to 64 KB and packets whose checksum is left to finish (TUNSETOFFLOAD).
using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal sealed unsafe class TunDevice : IDisposable
{
    private readonly FdHandle _handle;
    private readonly int _fd;
    private bool _addRef;


    private TunDevice(FdHandle handle, string name, bool virtioHeader)
    {
        HasVirtioHeader = virtioHeader;
        _handle = handle;
        Name = name;
        handle.DangerousAddRef(ref _addRef); // the fd stays valid for the datapath threads until Dispose
        _fd = handle.Fd;
    }

    /// <summary>The name the kernel gave the device (flannel%d → flannel0).</summary>
    public string Name { get; }

    internal int Fd => _fd;

    /// <summary>True when packets carry a virtio_net_hdr (the device was opened with offloads).</summary>
    public bool HasVirtioHeader { get; }

    /// <summary>The offloads the kernel accepted, e.g. "csum,tso4,uso4"; "none" without; the reason when refused.</summary>
    public string Offloads { get; private set; } = "none";

    /// <summary>
    /// Creates a device with <paramref name="queues"/> queues (a plain device when 1): element 0
    /// creates it from the pattern, the others attach to it by name. All or nothing.
    /// </summary>
    /// <param name="offloads">
    /// Open with a virtio_net_hdr and ask for checksum offload, TSO4 and USO4 (the last only where the
    /// kernel has it, 6.2 on); what was granted is in <see cref="Offloads"/> of element 0. When the
    /// kernel grants none, the device is opened again without the header: today's plain packets.
    /// </param>
    public static TunDevice[] OpenQueues(string namePattern, int queues, bool offloads = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queues, 1);
        var opened = new TunDevice[queues];
        int n = 0;
        try
        {
            opened[n++] = Open(namePattern, multiQueue: queues > 1, offloads);
            if (offloads)
            {
                var granted = opened[0].TrySetOffloads(out var refusal);
                if (granted is null)
                {
                    // Nothing granted: a header on every packet would only cost; reopen plain.
                    opened[0].Dispose();
                    n = 0;
                    opened[n++] = Open(namePattern, multiQueue: queues > 1, virtioHeader: false);
                    opened[0].Offloads = refusal!;
                }
                else opened[0].Offloads = granted;
            }
            while (n < queues) opened[n++] = Open(opened[0].Name, multiQueue: true, opened[0].HasVirtioHeader);
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

    /// <summary>
    /// Asks for the widest set of offloads the kernel grants: csum+TSO4+USO4, then csum+TSO4, then
    /// csum. Returns their names, or null with the kernel's refusal.
    /// </summary>
    private string? TrySetOffloads(out string? refusal)
    {
        int firstError = 0;
        foreach (var (flags, names) in new[]
        {
            // USO6 only because the kernel wants both: flannel0 carries no IPv6 (it is disabled on it).
            (NativeMethods.TUN_F_CSUM | NativeMethods.TUN_F_TSO4 | NativeMethods.TUN_F_USO4 | NativeMethods.TUN_F_USO6, "csum,tso4,uso4"),
            (NativeMethods.TUN_F_CSUM | NativeMethods.TUN_F_TSO4, "csum,tso4 (no uso4)"),
            (NativeMethods.TUN_F_CSUM, "csum (no tso4, uso4)"),
        })
        {
            if (LibC.ioctl(_fd, NativeMethods.TUNSETOFFLOAD, (void*)(nuint)flags) == 0) { refusal = null; return names; }
            if (firstError == 0) firstError = Errno.Last;
        }
        refusal = $"none: ioctl(TUNSETOFFLOAD) refused with errno {firstError}";
        return null;
    }

    /// <summary>Opens /dev/net/tun non-blocking and creates (or, multi-queue, joins) a device from a name pattern such as "flannel%d".</summary>
    private static TunDevice Open(string namePattern, bool multiQueue, bool virtioHeader)
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
            *(short*)(ifr + NativeMethods.IFNAMSIZ) = (short)(NativeMethods.IFF_TUN | NativeMethods.IFF_NO_PI
                | (multiQueue ? NativeMethods.IFF_MULTI_QUEUE : 0) | (virtioHeader ? NativeMethods.IFF_VNET_HDR : 0));
            if (LibC.ioctl(fd, NativeMethods.TUNSETIFF, ifr) < 0) throw Errno.Exception("ioctl(TUNSETIFF)", Errno.Last);
            var name = Marshal.PtrToStringAnsi((nint)ifr) ?? namePattern;
            return new TunDevice(handle, name, virtioHeader);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads one packet (after its virtio_net_hdr when <see cref="HasVirtioHeader"/>); 0 when none is queued (EAGAIN). Never blocks.</summary>
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

    /// <summary>Writes one plain packet (no offload; a zero virtio_net_hdr first when the device has them); false when the kernel would block (EAGAIN) or rejected it.</summary>
    public bool TryWrite(ReadOnlySpan<byte> packet, out int errno) =>
        HasVirtioHeader ? TryWrite(VirtioNetHdr.Plain, packet, out errno) : TryWritePlain(packet, out errno);

    /// <summary>Writes one packet after its virtio_net_hdr (one writev); only on a device with <see cref="HasVirtioHeader"/>.</summary>
    public bool TryWrite(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet, out int errno)
    {
        fixed (byte* h = virtioHeader)
        fixed (byte* p = packet)
        {
            NativeMethods.IoVec* iov = stackalloc NativeMethods.IoVec[2];
            iov[0].Base = h;
            iov[0].Length = (nuint)virtioHeader.Length;
            iov[1].Base = p;
            iov[1].Length = (nuint)packet.Length;
            while (true)
            {
                nint n = NativeMethods.WriteV(_fd, iov, 2);
                if (n >= 0) { errno = 0; return true; }
                errno = NativeMethods.LastError;
                if (errno != Errno.EINTR) return false;
            }
        }
    }

    private bool TryWritePlain(ReadOnlySpan<byte> packet, out int errno)
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
