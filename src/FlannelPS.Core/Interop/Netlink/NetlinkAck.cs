// The kernel's answer to one message of a train: errno 0 for success, else the errno and, when the
// kernel gave one (extended acks), its own reason in words.
namespace FlannelPS.Core.Interop.Netlink;

internal readonly record struct NetlinkAck(int Errno, string? KernelMessage = null)
{
    public bool Succeeded => Errno == 0;

    /// <summary>"ENETUNREACH (Network is unreachable)", with the kernel's reason appended when it gave one.</summary>
    public string Describe() => Interop.Errno.NameAndText(Errno) + (KernelMessage is { Length: > 0 } m ? $"; kernel: {m}" : "");
}
