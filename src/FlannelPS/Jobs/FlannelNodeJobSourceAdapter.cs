// The job source adapter PowerShell's JobManager uses for FlannelNodeJob: it starts jobs handed to
// it and answers Get-Job/Remove-Job queries about them. Jobs of this process only.
using System.Collections.Concurrent;
using System.Management.Automation;

namespace FlannelPS.Jobs;

public sealed class FlannelNodeJobSourceAdapter : JobSourceAdapter
{
    internal const string JobParameter = "FlannelNodeJob";
    private static readonly ConcurrentDictionary<Guid, FlannelNodeJob> Jobs = new();

    public FlannelNodeJobSourceAdapter() => Name = FlannelNodeJob.JobTypeName;

    /// <summary>All node jobs of this session that have not been removed.</summary>
    internal static IReadOnlyCollection<FlannelNodeJob> All => Jobs.Values.OrderBy(j => j.Id).ToArray();

    public override Job2 NewJob(JobInvocationInfo specification)
    {
        if (specification.Parameters.Count == 0 || specification.Parameters[0].FirstOrDefault(p => p.Name == JobParameter)?.Value is not FlannelNodeJob job)
            throw new ArgumentException("The job invocation does not carry a FlannelNodeJob.", nameof(specification));
        Jobs[job.InstanceId] = job;
        job.StartJob();
        return job;
    }

    public override IList<Job2> GetJobs() => All.Cast<Job2>().ToList();

    public override IList<Job2> GetJobsByName(string name, bool recurse)
    {
        var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
        return All.Where(j => pattern.IsMatch(j.Name)).Cast<Job2>().ToList();
    }

    public override IList<Job2> GetJobsByCommand(string command, bool recurse)
    {
        var pattern = WildcardPattern.Get(command, WildcardOptions.IgnoreCase);
        return All.Where(j => pattern.IsMatch(j.Command)).Cast<Job2>().ToList();
    }

    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) =>
        Jobs.TryGetValue(instanceId, out var job) ? job : null;

    public override Job2? GetJobBySessionId(int id, bool recurse) => All.FirstOrDefault(j => j.Id == id);

    public override IList<Job2> GetJobsByState(JobState state, bool recurse) =>
        All.Where(j => j.JobStateInfo.State == state).Cast<Job2>().ToList();

    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) => [];

    public override void RemoveJob(Job2 job)
    {
        if (Jobs.TryRemove(job.InstanceId, out var removed))
        {
            removed.StopJob();
            removed.Dispose();
        }
    }
}
