// Get-FlannelNode: live status of the flannel nodes this session runs as jobs.
using System.Management.Automation;
using FlannelPS.Infrastructure;
using FlannelPS.Jobs;
using FlannelPS.Model;

namespace FlannelPS.Commands;

[Cmdlet(VerbsCommon.Get, "FlannelNode", DefaultParameterSetName = NameSet)]
[OutputType(typeof(FlannelNodeStatus))]
public sealed class GetFlannelNodeCommand : FlannelCmdlet
{
    private const string NameSet = "Name";
    private const string JobSet = "Job";

    /// <summary>Job name(s) of the nodes; wildcards allowed.</summary>
    [Parameter(Position = 0, ParameterSetName = NameSet)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>The node job(s), e.g. from Start-FlannelNode or Get-Job.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = JobSet)]
    public Job[] Job { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == JobSet)
        {
            foreach (var j in Job)
            {
                if (j is FlannelNodeJob nodeJob) WriteObject(ToStatus(nodeJob));
                else WriteError(new ErrorRecord(new ArgumentException($"Job {j.Id} ({j.Name}) is not a flannel node job."), "FlannelNotANodeJob", ErrorCategory.InvalidArgument, j));
            }
            return;
        }
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var job in JobRepository.Jobs.OfType<FlannelNodeJob>().OrderBy(j => j.Id))
        {
            if (patterns is null || patterns.Any(p => p.IsMatch(job.Name))) WriteObject(ToStatus(job));
        }
    }

    private static FlannelNodeStatus ToStatus(FlannelNodeJob job) => new(job.Id, job.Name, job.Node.GetStatus());
}
