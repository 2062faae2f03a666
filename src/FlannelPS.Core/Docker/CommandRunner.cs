// The one way the Docker steps run external tools (ip, systemctl): argument lists, never a shell,
// with a bounded wait. An interface so tests can record the commands instead of running them.
using System.Diagnostics;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Docker;

public sealed record CommandResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Succeeded => ExitCode == 0;
}

public interface ICommandRunner
{
    Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken);
}

public sealed class ProcessCommandRunner(TimeSpan? timeout = null) : ICommandRunner
{
    public static readonly ProcessCommandRunner Default = new();

    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(60);

    public async Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FlannelException("FlannelCommandNotFound", FlannelErrorCategory.ObjectNotFound,
                $"Cannot run '{fileName}': {ex.Message}. Install it or put it on PATH.", fileName, ex);
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(_timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            if (cancellationToken.IsCancellationRequested) throw;
            throw new FlannelException("FlannelCommandTimeout", FlannelErrorCategory.OperationTimeout,
                $"'{fileName} {string.Join(' ', arguments)}' did not finish within {_timeout.TotalSeconds:0} s.", fileName);
        }
        return new CommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
