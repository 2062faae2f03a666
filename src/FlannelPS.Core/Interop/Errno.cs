// errno handling for the raw calls: EINTR retry and failures turned into exceptions that name the call.
using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal static class Errno
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EPERM = 1;
    public const int EACCES = 13;
    public const int EMSGSIZE = 90;
    public const int ECONNREFUSED = 111;
    public const int EIO = 5;
    public const int ESRCH = 3;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int ENOBUFS = 105;
    public const int EHOSTUNREACH = 113;

    private static readonly Dictionary<int, string> Names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [5] = "EIO", [6] = "ENXIO", [7] = "E2BIG",
        [9] = "EBADF", [11] = "EAGAIN", [12] = "ENOMEM", [13] = "EACCES", [14] = "EFAULT", [16] = "EBUSY",
        [17] = "EEXIST", [18] = "EXDEV", [19] = "ENODEV", [20] = "ENOTDIR", [22] = "EINVAL", [23] = "ENFILE",
        [24] = "EMFILE", [28] = "ENOSPC", [34] = "ERANGE", [38] = "ENOSYS", [39] = "ENOTEMPTY", [40] = "ELOOP",
        [61] = "ENODATA", [71] = "EPROTO", [74] = "EBADMSG", [75] = "EOVERFLOW", [88] = "ENOTSOCK",
        [90] = "EMSGSIZE", [92] = "ENOPROTOOPT", [93] = "EPROTONOSUPPORT", [95] = "EOPNOTSUPP",
        [97] = "EAFNOSUPPORT", [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL", [100] = "ENETDOWN",
        [101] = "ENETUNREACH", [105] = "ENOBUFS", [107] = "ENOTCONN", [110] = "ETIMEDOUT", [111] = "ECONNREFUSED",
        [113] = "EHOSTUNREACH", [114] = "EALREADY", [115] = "EINPROGRESS",
    };

    /// <summary>The symbolic name ("ENETUNREACH"), or "errno N" for one not in the table.</summary>
    public static string Name(int errno) => Names.TryGetValue(errno, out var n) ? n : $"errno {errno}";

    /// <summary>strerror's text ("Network is unreachable").</summary>
    public static unsafe string Text(int errno)
    {
        byte* buf = stackalloc byte[256];
        if (LibC.strerror_r(errno, buf, 256) != 0) return $"errno {errno}";
        return Marshal.PtrToStringUTF8((nint)buf) ?? $"errno {errno}";
    }

    /// <summary>"ENETUNREACH (Network is unreachable)".</summary>
    public static string NameAndText(int errno) => $"{Name(errno)} ({Text(errno)})";

    /// <summary>errno after a Tmds.LibC call.</summary>
    public static int Last => LibC.errno;

    public static unsafe string Describe(int errno)
    {
        byte* buf = stackalloc byte[256];
        // GNU strerror_r may return a static string instead of filling buf; the XSI form is what Tmds binds.
        if (LibC.strerror_r(errno, buf, 256) != 0) return $"errno {errno}";
        return $"{Marshal.PtrToStringUTF8((nint)buf)} (errno {errno})";
    }

    public static IOException Exception(string call, int errno) => new($"{call} failed: {Describe(errno)}", errno);
}
