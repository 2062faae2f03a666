// A PowerShell job that hosts one FlannelNode in this process for the life of the session:
// Get-Job lists it, Receive-Job yields its events, Stop-Job/Remove-Job stop it cleanly.
// The job adapts the node; it owns nothing but the cancellation and the output streams.
using System.Management.Automation;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Node;
using FlannelPS.Infrastructure;

namespace FlannelPS.Jobs;

public sealed class FlannelNodeJob : Job2, ILog
{
    public const string JobTypeName = "FlannelNodeJob";
    /// <summary>Events kept for Receive-Job before the oldest are dropped.</summary>
    public const int MaxBufferedEvents = 1000;

    private readonly CancellationTokenSource _stop = new();
    /// <summary>Node log lines below this level are not kept.</summary>
    private const LogLevel MinimumLevel = LogLevel.Info;
    private Task? _run;
    private int _stopRaised;

    internal FlannelNodeJob(string command, string name, FlannelNode node)
        : base(command, name)
    {
        Node = node;
        PSJobTypeName = JobTypeName;
        node.EventRaised += OnNodeEvent;
    }

    /// <summary>The node this job runs; <c>$job.Node.GetStatus()</c> is live.</summary>
    public FlannelNode Node { get; }

    /// <summary>Live status (subnet, lease expiry, peers, counters).</summary>
    public NodeStatus Status => Node.GetStatus();

    public override string Location => Environment.MachineName;

    public override string StatusMessage => Node.State.ToString();

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0;

    public override void StartJob()
    {
        SetJobState(JobState.Running);
        _run = Task.Run(RunAsync);
    }

    public override void StartJobAsync()
    {
        StartJob();
        OnStartJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
    }

    private async Task RunAsync()
    {
        Exception? failure = null;
        try
        {
            await Node.RunAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
            var record = ErrorMapper.ToErrorRecord(ex, "FlannelNodeFailed", ErrorCategory.NotSpecified, null);
            Error.Add(record);
        }
        if (_stop.IsCancellationRequested) SetJobState(JobState.Stopped);
        else SetJobState(failure is null ? JobState.Completed : JobState.Failed);
        RaiseStopCompleted();
    }

    public override void StopJob() => StopJob(false, null);

    public override void StopJob(bool force, string? reason)
    {
        if (IsFinishedState(JobStateInfo.State)) { RaiseStopCompleted(); return; }
        SetJobState(JobState.Stopping);
        _stop.Cancel();
        try { _run?.Wait(TimeSpan.FromSeconds(30)); }
        catch (AggregateException) { }
    }

    public override void StopJobAsync() => StopJobAsync(false, null);

    public override void StopJobAsync(bool force, string? reason) =>
        Task.Run(() => StopJob(force, reason));

    private void RaiseStopCompleted()
    {
        if (Interlocked.Exchange(ref _stopRaised, 1) == 0)
            OnStopJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
    }

    private static bool IsFinishedState(JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Stopped;

    private void OnNodeEvent(NodeEvent e)
    {
        Output.Add(PSObject.AsPSObject(e));
        while (Output.Count > MaxBufferedEvents) Output.RemoveAt(0);
    }

    // ILog: node log lines become the job's verbose/warning streams (bounded like the output).
    bool ILog.IsEnabled(LogLevel level) => level >= MinimumLevel;

    void ILog.Write(LogLevel level, string message)
    {
        if (level < MinimumLevel) return;
        var line = $"{DateTime.Now:HH:mm:ss} {message}";
        switch (level)
        {
            case LogLevel.Warning:
            case LogLevel.Error:
                Warning.Add(new WarningRecord(line));
                while (Warning.Count > MaxBufferedEvents) Warning.RemoveAt(0);
                break;
            default:
                Verbose.Add(new VerboseRecord(line));
                while (Verbose.Count > MaxBufferedEvents) Verbose.RemoveAt(0);
                break;
        }
    }

    // Suspend/resume/unblock make no sense for a network node.
    public override void SuspendJob() => throw NotSupported("Suspend");
    public override void SuspendJobAsync() => throw NotSupported("Suspend");
    public override void SuspendJob(bool force, string? reason) => throw NotSupported("Suspend");
    public override void SuspendJobAsync(bool force, string? reason) => throw NotSupported("Suspend");
    public override void ResumeJob() => throw NotSupported("Resume");
    public override void ResumeJobAsync() => throw NotSupported("Resume");
    public override void UnblockJob() => throw NotSupported("Unblock");
    public override void UnblockJobAsync() => throw NotSupported("Unblock");

    private static NotSupportedException NotSupported(string what) => new($"{what} is not supported for a flannel node job; use Stop-Job.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!IsFinishedState(JobStateInfo.State)) StopJob();
            Node.EventRaised -= OnNodeEvent;
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }
}
