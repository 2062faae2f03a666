// How the service steps run external tools (systemctl), through ChildProcess. An
// interface so tests can record the commands instead of running them.
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Host;

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
        var r = await ChildProcess.RunAsync(fileName, arguments, _timeout, cancellationToken).ConfigureAwait(false);
        if (r.TimedOut)
            throw new FlannelException("FlannelCommandTimeout", FlannelErrorCategory.OperationTimeout,
                $"'{ChildProcess.Describe(fileName, arguments)}' did not finish within {_timeout.TotalSeconds:0} s.", fileName);
        return new CommandResult(r.ExitCode, r.StandardOutput, r.StandardError);
    }
}
