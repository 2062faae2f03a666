// The one way FlannelPS runs an external tool (ip, iptables, systemctl, docker): an argument list,
// never a shell; stdin closed so a tool never waits on the terminal; stdout and stderr read to the
// end; a bounded wait that kills the tool's whole tree when it is exceeded. The callers decide what a
// failure or a timeout means for them.
//
// Run is synchronous on purpose: the child is forked from the calling thread, so it acts in that
// thread's network namespace, and an await could resume on a thread in another one.
using System.Diagnostics;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Host;

public sealed record ChildProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;
}

public static class ChildProcess
{
    /// <summary>The ErrorId of the FlannelException for a tool that cannot be started.</summary>
    public const string CommandNotFoundErrorId = "FlannelCommandNotFound";

    /// <summary>Runs <paramref name="fileName"/> and waits up to <paramref name="timeout"/>; a timed-out child is killed.</summary>
    /// <exception cref="FlannelException">FlannelCommandNotFound when the tool cannot be started.</exception>
    public static ChildProcessResult Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        using var process = Start(fileName, arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            Kill(process);
            return new ChildProcessResult(-1, "", "", TimedOut: true);
        }
        process.WaitForExit(); // flushes the redirected streams
        return new ChildProcessResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult(), TimedOut: false);
    }

    /// <summary>
    /// As <see cref="Run"/>, waiting asynchronously. Cancellation kills the child and throws
    /// OperationCanceledException; a timeout kills it and returns a result with TimedOut set.
    /// </summary>
    public static async Task<ChildProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var process = Start(fileName, arguments);
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            cancellationToken.ThrowIfCancellationRequested();
            return new ChildProcessResult(-1, "", "", TimedOut: true);
        }
        return new ChildProcessResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), TimedOut: false);
    }

    /// <summary>The command line as a user would type it, for messages.</summary>
    public static string Describe(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', arguments.Prepend(fileName));

    private static Process Start(string fileName, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new FlannelException(CommandNotFoundErrorId, FlannelErrorCategory.ObjectNotFound,
                $"Cannot run '{fileName}': {ex.Message}. Install it or put it on PATH.", fileName, ex);
        }
        process.StandardInput.Close();
        return process;
    }

    private static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
        // Reap it, bounded, so no zombie is left behind.
        process.WaitForExit(TimeSpan.FromSeconds(5));
    }
}
