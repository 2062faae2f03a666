// The one bridge between PowerShell's synchronous pipeline and Core's async API: the async body
// runs on the pool while the pipeline thread drains a queue of Write*/ShouldProcess calls, and
// Ctrl+C (StopProcessing) cancels the body. Cmdlets never call .Result themselves.
using System.Collections.Concurrent;
using System.Management.Automation;
using FlannelPS.Core.Errors;

namespace FlannelPS.Infrastructure;

public abstract class FlannelCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private BlockingCollection<Action>? _pipelineQueue;
    private int _pipelineThreadId;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs <paramref name="body"/> to completion, servicing its pipeline calls on this thread.
    /// A FlannelException becomes a terminating error with the exception's stable id.</summary>
    protected void RunAsync(Func<CancellationToken, Task> body)
    {
        using var queue = new BlockingCollection<Action>();
        _pipelineQueue = queue;
        _pipelineThreadId = Environment.CurrentManagedThreadId;
        var task = Task.Run(async () =>
        {
            try { await body(_stopping.Token).ConfigureAwait(false); }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var action in queue.GetConsumingEnumerable()) action();
        }
        finally
        {
            _pipelineQueue = null;
        }
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (FlannelException ex)
        {
            if (ErrorsEndOnlyTheRecord) WriteError(ErrorMapper.ToErrorRecord(ex));
            else ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex));
        }
    }

    /// <summary>
    /// True for cmdlets that handle each pipeline record on its own (Get- and Remove-FlannelSubnetLease):
    /// a failure such as etcd being unavailable is then a non-terminating error, so -ErrorAction decides
    /// whether the pipeline goes on with the next record.
    /// </summary>
    protected virtual bool ErrorsEndOnlyTheRecord => false;

    /// <summary>Runs a Core call on the pipeline thread; a FlannelException becomes a terminating error with its stable id.</summary>
    protected T Checked<T>(Func<T> call)
    {
        try { return call(); }
        catch (FlannelException ex)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }

    protected void Checked(Action call) => Checked(() => { call(); return true; });

    /// <summary>Runs <paramref name="action"/> on the pipeline thread and waits for it.</summary>
    protected T OnPipeline<T>(Func<T> action)
    {
        var queue = _pipelineQueue;
        if (queue is null || Environment.CurrentManagedThreadId == _pipelineThreadId) return action();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Add(() =>
        {
            try { done.SetResult(action()); }
            catch (Exception ex) { done.SetException(ex); }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    protected void OnPipeline(Action action) => OnPipeline(() => { action(); return true; });

    // Thread-safe forms of the pipeline calls, usable from the async body.
    protected void Emit(object? value) => OnPipeline(() => WriteObject(value));
    protected internal void EmitVerbose(string text) => OnPipeline(() => WriteVerbose(text));
    protected internal void EmitWarning(string text) => OnPipeline(() => WriteWarning(text));
    protected void EmitError(FlannelException ex) => OnPipeline(() => WriteError(ErrorMapper.ToErrorRecord(ex)));
    protected void EmitError(ErrorRecord record) => OnPipeline(() => WriteError(record));
    protected bool Confirm(string target, string action) => OnPipeline(() => ShouldProcess(target, action));

    /// <summary>ShouldProcess that -Force answers yes to, unless -WhatIf or an explicit -Confirm asks otherwise.</summary>
    protected bool ConfirmUnlessForced(bool force, string target, string action)
    {
        var bound = MyInvocation.BoundParameters;
        if (force && !bound.ContainsKey("WhatIf") && !bound.ContainsKey("Confirm")) return true;
        return Confirm(target, action);
    }

    /// <summary>Resolves a path against the current PowerShell location (not the process cwd). Call on the pipeline thread.</summary>
    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>As <see cref="ResolvePath"/>; null or empty (an unset option) stays null.</summary>
    protected string? ResolveOptionalPath(string? path) => string.IsNullOrEmpty(path) ? null : ResolvePath(path);

    /// <summary>PowerShell disposes a cmdlet when its pipeline ends, however it ends (done, error, Ctrl+C).</summary>
    public void Dispose()
    {
        DisposeResources();
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the cmdlet kept across pipeline records.</summary>
    protected virtual void DisposeResources() { }
}
