// Which CPUs this process may run on, and pinning the calling thread to some of them
// (sched_getaffinity / sched_setaffinity with pid 0 = the calling thread on Linux).
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Interop;

internal static unsafe partial class CpuAffinity
{
    /// <summary>cpu_set_t bytes passed to the kernel: room for 4096 CPUs.</summary>
    private const int MaskBytes = 512;

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetAffinity(int pid, nuint size, byte* mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nuint size, byte* mask);

    /// <summary>The CPU numbers the calling thread may run on, ascending; empty if the kernel would not say.</summary>
    public static int[] AllowedCpus()
    {
        byte* mask = stackalloc byte[MaskBytes];
        new Span<byte>(mask, MaskBytes).Clear();
        if (SchedGetAffinity(0, MaskBytes, mask) < 0) return [];
        var cpus = new List<int>();
        for (int i = 0; i < MaskBytes * 8; i++)
            if ((mask[i >> 3] & (1 << (i & 7))) != 0) cpus.Add(i);
        return [.. cpus];
    }

    /// <summary>Restricts the calling thread to <paramref name="cpus"/>; returns 0 or the errno.</summary>
    public static int TryPinCurrentThread(ReadOnlySpan<int> cpus)
    {
        byte* mask = stackalloc byte[MaskBytes];
        new Span<byte>(mask, MaskBytes).Clear();
        foreach (int cpu in cpus)
        {
            if (cpu < 0 || cpu >= MaskBytes * 8) return NativeMethods.EINVAL;
            mask[cpu >> 3] |= (byte)(1 << (cpu & 7));
        }
        return SchedSetAffinity(0, MaskBytes, mask) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
