// ChildProcess runs real tools: output and exit code come back, a missing tool is a clear error,
// stdin is closed, and a tool that hangs is killed at the bound (sync) or on cancellation (async).
using System.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;

namespace FlannelPS.Core.Tests.Host;

public sealed class ChildProcessTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    [Fact]
    public void Returns_exit_code_and_both_streams()
    {
        var r = ChildProcess.Run("sh", ["-c", "echo out; echo err >&2; exit 3"], Long);
        Assert.Equal(new ChildProcessResult(3, "out\n", "err\n", TimedOut: false), r);
        Assert.False(r.Succeeded);
    }

    [Fact]
    public async Task Async_returns_exit_code_and_both_streams()
    {
        var r = await ChildProcess.RunAsync("sh", ["-c", "echo out; echo err >&2"], Long, default);
        Assert.Equal(new ChildProcessResult(0, "out\n", "err\n", TimedOut: false), r);
        Assert.True(r.Succeeded);
    }

    [Fact]
    public void Stdin_is_closed_so_a_reader_does_not_wait()
    {
        var watch = Stopwatch.StartNew();
        var r = ChildProcess.Run("cat", [], Long);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.StandardOutput);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"cat waited {watch.Elapsed}");
    }

    [Fact]
    public async Task Missing_tool_is_a_FlannelException_naming_it()
    {
        var ex = Assert.Throws<FlannelException>(() => ChildProcess.Run("/nonexistent/tool", ["x"], Long));
        Assert.Equal("FlannelCommandNotFound", ex.ErrorId);
        Assert.Contains("'/nonexistent/tool'", ex.Message);
        var async = await Assert.ThrowsAsync<FlannelException>(() => ChildProcess.RunAsync("/nonexistent/tool", [], Long, default));
        Assert.Equal("FlannelCommandNotFound", async.ErrorId);
    }

    [Fact]
    public void A_tool_past_its_bound_is_killed_and_reported_as_timed_out()
    {
        var marker = $"fpchild-{Guid.NewGuid():N}";
        var watch = Stopwatch.StartNew();
        var r = ChildProcess.Run("bash", ["-c", $"exec -a {marker} sleep 30"], TimeSpan.FromMilliseconds(300));
        Assert.True(r.TimedOut);
        Assert.False(r.Succeeded);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"returned after {watch.Elapsed}");
        Assert.False(IsRunning(marker), "the timed-out child is still running");
    }

    [Fact]
    public async Task Async_timeout_and_cancellation_both_kill_the_tool()
    {
        var marker = $"fpchild-{Guid.NewGuid():N}";
        var r = await ChildProcess.RunAsync("bash", ["-c", $"exec -a {marker} sleep 30"], TimeSpan.FromMilliseconds(300), default);
        Assert.True(r.TimedOut);
        Assert.False(IsRunning(marker), "the timed-out child is still running");

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => ChildProcess.RunAsync("bash", ["-c", $"exec -a {marker}c sleep 30"], Long, cts.Token));
        Assert.False(IsRunning(marker + "c"), "the cancelled child is still running");
    }

    private static bool IsRunning(string marker) =>
        Directory.EnumerateDirectories("/proc").Any(d =>
        {
            try { return File.ReadAllText(Path.Combine(d, "cmdline")).StartsWith(marker, StringComparison.Ordinal); }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });
}
