// Drops capabilities from the calling thread's effective set (capset acts per thread), so one test
// thread can act like a node in a container without them while the rest of the process keeps them.
// Disposing restores the effective set from the permitted set, which is left untouched.
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Tests.Interop;

internal sealed unsafe partial class ThreadCapabilities : IDisposable
{
    public const int CAP_SYS_ADMIN = 21;
    public const int CAP_BPF = 39;
    private const uint Version3 = 0x20080522;

    [StructLayout(LayoutKind.Sequential)]
    private struct Header { public uint Version; public int Pid; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Data { public uint Effective, Permitted, Inheritable; }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, Header* header, Data* data);

    private static long Number(bool set) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => set ? 126 : 125,
        Architecture.Arm64 => set ? 91 : 90,
        _ => throw new PlatformNotSupportedException(),
    };

    private readonly Data[] _saved = new Data[2];

    private ThreadCapabilities(params int[] drop)
    {
        var h = new Header { Version = Version3 };
        Data* d = stackalloc Data[2];
        if (Syscall(Number(false), &h, d) != 0) throw new IOException($"capget failed: errno {Marshal.GetLastPInvokeError()}");
        _saved[0] = d[0];
        _saved[1] = d[1];
        foreach (var cap in drop) d[cap / 32].Effective &= ~(1u << (cap % 32));
        if (Syscall(Number(true), &h, d) != 0) throw new IOException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Drops <paramref name="caps"/> from this thread's effective set until disposed.</summary>
    public static ThreadCapabilities Drop(params int[] caps) => new(caps);

    public void Dispose()
    {
        var h = new Header { Version = Version3 };
        Data* d = stackalloc Data[2];
        d[0] = _saved[0];
        d[1] = _saved[1];
        Syscall(Number(true), &h, d);
    }
}
