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
