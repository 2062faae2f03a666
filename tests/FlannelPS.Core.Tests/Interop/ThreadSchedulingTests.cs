// The datapath thread's short scheduler slice: the kernel must really hold it (se.slice in
// /proc/<pid>/task/<tid>/sched, Linux 6.12+), and nice must be left as it was.
using System.Runtime.InteropServices;
using FlannelPS.Core.Interop;

namespace FlannelPS.Core.Tests.Interop;

public sealed partial class ThreadSchedulingTests
{
    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    private static string Sched(int tid) => File.ReadAllText($"/proc/{Environment.ProcessId}/task/{tid}/sched");

    [Fact]
    public void TrySetSlice_gives_the_calling_thread_the_slice_and_keeps_its_nice()
    {
        string? before = null, after = null, niceBefore = null, niceAfter = null;
        int rc = -2;
        var t = new Thread(() =>
        {
            int tid = GetTid();
            before = Sched(tid);
            niceBefore = File.ReadAllText($"/proc/{Environment.ProcessId}/task/{tid}/stat").Split(' ')[18];
            rc = ThreadScheduling.TrySetSlice(TimeSpan.FromMicroseconds(150));
            after = Sched(tid);
            niceAfter = File.ReadAllText($"/proc/{Environment.ProcessId}/task/{tid}/stat").Split(' ')[18];
        });
        t.Start();
        Assert.True(t.Join(10_000));
        Assert.Equal(0, rc);
        Assert.Equal(niceBefore, niceAfter);
        // Kernels before EEVDF custom slices accept the call but have no se.slice line to show.
        if (!before!.Contains("se.slice")) return;
        Assert.Matches(@"se\.slice\s+:\s+150000\b", after!);
        Assert.DoesNotMatch(@"se\.slice\s+:\s+150000\b", before);
    }
}
