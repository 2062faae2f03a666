// Asks the kernel for a short EEVDF time slice for the calling thread (sched_setattr, SCHED_OTHER with
// sched_runtime, Linux 6.12+). A thread with a shorter slice gets an earlier virtual deadline, so when
// it wakes on a CPU busy with a long-slice task it preempts at once instead of waiting for that task's
// slice or the next tick (measured here: 2-4 ms). Its CPU share is unchanged: only latency moves.
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Interop;

internal static unsafe partial class ThreadScheduling
{
    /// <summary>The kernel clamps a custom slice to [0.1 ms, 100 ms].</summary>
    public static readonly TimeSpan MinimumSlice = TimeSpan.FromMicroseconds(100);

    private const int SCHED_OTHER = 0;
    private const int PRIO_PROCESS = 0;

    /// <summary>struct sched_attr, SCHED_ATTR_SIZE_VER1 (56 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
        public uint UtilMin;
        public uint UtilMax;
    }

    // sched_setattr through syscall() (see SyscallNumbers).
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int pid, SchedAttr* attr, uint flags);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, uint who);

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, uint who, int nice);

    /// <summary>
    /// Sets the calling thread's nice value (setpriority(PRIO_PROCESS, 0) is this thread on Linux;
    /// the kernel clamps it to -20..19). Returns 0 on success, else the errno (EACCES without
    /// CAP_SYS_NICE for a lower value).
    /// </summary>
    public static int TrySetNice(int nice) => SetPriority(PRIO_PROCESS, 0, nice) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>
    /// Sets the calling thread's slice (SCHED_OTHER, nice kept). Returns 0 on success, else the errno
    /// (or -1 on an architecture whose syscall number is unknown). Older kernels accept and ignore it.
    /// </summary>
    public static int TrySetSlice(TimeSpan slice)
    {
        long nr = SyscallNumbers.SchedSetattr;
        if (nr < 0) return -1;
        if (slice < MinimumSlice) slice = MinimumSlice;
        // sched_setattr also sets nice; pass the thread's current one (getpriority(0) = this thread on Linux).
        Marshal.SetLastPInvokeError(0);
        int nice = GetPriority(PRIO_PROCESS, 0);
        if (nice == -1 && Marshal.GetLastPInvokeError() != 0) nice = 0;
        var attr = new SchedAttr
        {
            Size = (uint)sizeof(SchedAttr),
            Policy = SCHED_OTHER,
            Nice = nice,
            Runtime = (ulong)(slice.Ticks * 100), // ticks are 100 ns
        };
        return Syscall(nr, 0, &attr, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
