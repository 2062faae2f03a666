// The datapath thread's short scheduler slice: the kernel must really hold it (se.slice in
// /proc/<pid>/task/<tid>/sched, Linux 6.12+), and nice must be left as it was.
using System.Runtime.InteropServices;
using FlannelPS.Core.Interop;

namespace FlannelPS.Core.Tests.Interop;

public sealed partial class ThreadSchedulingTests
{
    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, uint who, int prio);

    /// <summary>The thread's nice value: field 19 of its stat, counted after the ")" that ends comm (which may hold spaces).</summary>
    private static string Nice(int tid)
    {
        var stat = File.ReadAllText($"/proc/{Environment.ProcessId}/task/{tid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16];
    }

    private static string Sched(int tid) => File.ReadAllText($"/proc/{Environment.ProcessId}/task/{tid}/sched");

    [Fact]
    public void TrySetSlice_gives_the_calling_thread_the_slice_and_keeps_its_nice()
    {
        string? before = null, after = null, niceBefore = null, niceAfter = null;
        int rc = -2;
        var t = new Thread(() =>
        {
            int tid = GetTid();
            // A nice other than the default, so a call that reset nice to 0 would be caught.
            if (SetPriority(0, (uint)tid, 5) != 0) throw new InvalidOperationException("setpriority failed");
            before = Sched(tid);
            niceBefore = Nice(tid);
            rc = ThreadScheduling.TrySetSlice(TimeSpan.FromMicroseconds(150));
            after = Sched(tid);
            niceAfter = Nice(tid);
        });
        t.Start();
        Assert.True(t.Join(10_000));
        Assert.Equal(0, rc);
        Assert.Equal("5", niceBefore);
        Assert.Equal(niceBefore, niceAfter);
        // Kernels before EEVDF custom slices accept the call but have no se.slice line to show.
        if (!before!.Contains("se.slice")) return;
        Assert.Matches(@"se\.slice\s+:\s+150000\b", after!);
        Assert.DoesNotMatch(@"se\.slice\s+:\s+150000\b", before);
    }
}
