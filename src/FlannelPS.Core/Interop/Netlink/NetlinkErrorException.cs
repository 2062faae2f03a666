// A request the kernel answered with an error ack. Interop callers turn it into an exception that
// names the operation and the object (HostNetworkException).
namespace FlannelPS.Core.Interop.Netlink;

internal sealed class NetlinkErrorException(NetlinkAck ack)
    : IOException(ack.Describe(), ack.Errno)
{
    public NetlinkAck Ack { get; } = ack;
    public int Errno => Ack.Errno;
}
