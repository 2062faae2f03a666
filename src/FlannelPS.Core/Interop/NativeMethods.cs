// What Tmds.LibC 0.5 lacks: TUN ioctls and struct ifreq, SO_REUSEPORT steering, interface ioctls, recvmmsg/sendmmsg with
// their structs. Layouts are x86-64/arm64 Linux (LP64).
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Interop;

internal static unsafe partial class NativeMethods
{
    public const int TUNSETIFF = 0x400454ca;
    public const short IFF_TUN = 0x0001;
    public const short IFF_NO_PI = 0x1000;
    /// <summary>Every packet read or written carries a struct virtio_net_hdr first (offloads: GSO, partial checksums).</summary>
    public const short IFF_VNET_HDR = 0x4000;
    /// <summary>_IOW('T', 208, unsigned int): which offloads the kernel may hand the TUN's reader (TUN_F_*).</summary>
    public const int TUNSETOFFLOAD = 0x400454d0;
    public const uint TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02;
    /// <summary>UDP segmentation offload (Linux 6.2); the kernel takes USO4 only together with USO6.</summary>
    public const uint TUN_F_USO4 = 0x20, TUN_F_USO6 = 0x40;
    /// <summary>One TUN device, several fds ("queues"), each read and written by its own thread.</summary>
    public const short IFF_MULTI_QUEUE = 0x0100;
    /// <summary>_IOR('T', 224, int): the eBPF program that picks the queue each packet the host sends into the TUN goes to.</summary>
    public const int TUNSETSTEERINGEBPF = unchecked((int)0x800454e0);
    public const int SO_REUSEPORT = 15;
    /// <summary>An eBPF program that picks which socket of a SO_REUSEPORT group gets each datagram.</summary>
    public const int SO_ATTACH_REUSEPORT_EBPF = 52;
    public const int SIOCGIFMTU = 0x8921;
    public const int SIOCGIFINDEX = 0x8933;
    public const int IFNAMSIZ = 16;
    public const int IfReqSize = 40;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;
    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const int SOL_UDP = 17;
    /// <summary>UDP GSO (Linux 4.18): one send carries many equal-size datagrams; the kernel cuts them.</summary>
    public const int UDP_SEGMENT = 103;
    /// <summary>UDP GRO (Linux 5.0): one receive returns many equal-size datagrams back to back; a cmsg gives their size.</summary>
    public const int UDP_GRO = 104;
    /// <summary>The kernel's cap on segments per UDP GSO send (UDP_MAX_SEGMENTS).</summary>
    public const int UdpMaxSegments = 64;
    /// <summary>The largest UDP payload over IPv4 (65535 − 20 − 8): the cap on one GSO send.</summary>
    public const int UdpMaxPayload = 65507;
    public const int EIO = 5;
    public const int EINVAL = 22;

    /// <summary>struct cmsghdr followed by one u16 (UDP_SEGMENT's gso_size), padded: CMSG_SPACE(2) = 24.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 24)]
    public struct SegmentCmsg
    {
        public nuint Len;
        public int Level;
        public int Type;
        public ushort GsoSize;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLen;
        public IoVec* Iov;
        public nuint IovLen;
        public void* Control;
        public nuint ControlLen;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Hdr;
        public uint Len;
    }

    /// <summary>struct sockaddr_in: port and address in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    public struct SockAddrIn
    {
        public ushort Family;
        public ushort PortBE;
        public uint AddrBE;
        public ulong Zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    // The datapath loop's per-packet calls. Blittable and without SetLastError, so the JIT inlines the
    // transition at the call site: no marshalling stub, nothing extra to fault into the cache when the
    // loop wakes cold. errno is read only after a failure, at once, with LastError (what the
    // LibraryImport generator itself emits for SetLastError). Tmds.LibC's read and write go through a
    // SetLastError stub; measured on the ping path its first call after a sleep cost several µs.
    [LibraryImport("libc", EntryPoint = "read")]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write")]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "writev")]
    public static partial nint WriteV(int fd, IoVec* iov, int count);

    [LibraryImport("libc", EntryPoint = "recvmsg")]
    public static partial nint RecvMsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "poll")]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "recvfrom")]
    public static partial nint RecvFrom(int fd, byte* buffer, nuint length, int flags, SockAddrIn* from, uint* fromLength);

    [LibraryImport("libc", EntryPoint = "sendto")]
    public static partial nint SendTo(int fd, byte* buffer, nuint length, int flags, SockAddrIn* to, uint toLength);

    [LibraryImport("libc", EntryPoint = "recvmmsg")]
    public static partial int RecvMMsg(int fd, MMsgHdr* msgs, uint vlen, int flags, void* timeout);

    [LibraryImport("libc", EntryPoint = "sendmmsg")]
    public static partial int SendMMsg(int fd, MMsgHdr* msgs, uint vlen, int flags);

    /// <summary>errno of the call just made with one of the imports above.</summary>
    public static int LastError => Marshal.GetLastSystemError();
}
