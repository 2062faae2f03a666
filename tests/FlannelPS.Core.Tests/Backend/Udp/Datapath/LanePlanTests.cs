using FlannelPS.Core.Backend.Udp.Datapath;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed class LanePlanTests
{
    [Fact]
    public void One_cpu_lane_per_allowed_cpu_each_pinned_to_the_cpus_the_steering_maps_to_it()
    {
        var plan = LanePlan.For([0, 1]);
        Assert.Equal(2, plan.CpuLanes);
        Assert.Equal(3, plan.Queues);
        Assert.Equal([[0], [1]], plan.LaneCpus);
        Assert.Equal(1, plan.LaneOf(0));
        Assert.Equal(2, plan.LaneOf(1));
    }

    [Fact]
    public void Fewer_lanes_than_cpus_share_cpus_by_remainder_as_the_steering_program_computes()
    {
        var plan = LanePlan.For([0, 1, 2, 3, 4], requestedCpuLanes: 2);
        Assert.Equal([[0, 2, 4], [1, 3]], plan.LaneCpus);
        foreach (var cpu in new[] { 0, 1, 2, 3, 4 })
            Assert.Contains(cpu, plan.LaneCpus[plan.LaneOf(cpu) - 1]);
        // A process confined to CPUs 2 and 3 still gets each lane pinned where its packets come from.
        var confined = LanePlan.For([2, 3]);
        Assert.Equal([[2], [3]], confined.LaneCpus);
        Assert.Equal(1, confined.LaneOf(2));
    }

    [Fact]
    public void No_cpu_lanes_on_one_cpu_when_asked_for_none_and_never_more_than_the_cap()
    {
        Assert.Same(LanePlan.MainLaneOnly, LanePlan.For([0]));
        Assert.Same(LanePlan.MainLaneOnly, LanePlan.For([0, 1, 2, 3], requestedCpuLanes: 0));
        Assert.Same(LanePlan.MainLaneOnly, LanePlan.For([0, 1, 2, 3], requestedCpuLanes: 1));
        Assert.Equal(1, LanePlan.MainLaneOnly.Queues);
        Assert.Equal(0, LanePlan.MainLaneOnly.LaneOf(3));
        Assert.Equal(LanePlan.MaxCpuLanes, LanePlan.For(Enumerable.Range(0, 200).ToArray()).CpuLanes);
        Assert.Throws<ArgumentOutOfRangeException>(() => LanePlan.For([0, 1], requestedCpuLanes: -1));
    }
}
