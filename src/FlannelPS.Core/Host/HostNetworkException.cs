// A host network change or read the kernel refused, naming the errno and the object
// ("RTM_NEWROUTE 10.0.5.0/24 via 10.0.5.0 dev flannel.1 onlink: ENETUNREACH (Network is unreachable)").
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Host;

public sealed class HostNetworkException(string operation, string target, int errno, string errnoText)
    : FlannelException("FlannelHostNetworkFailed", errno is Interop.Errno.EPERM or Interop.Errno.EACCES ? FlannelErrorCategory.PermissionDenied : FlannelErrorCategory.InvalidOperation,
        $"{operation} {target}: {errnoText}", target)
{
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;
}
