// When traffic moves between the CPU lanes and the main lane, on a fake clock: no root, BPF, second
// CPU or waiting needed.
using FlannelPS.Core.Backend.Udp.Datapath;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed class LanePolicyTests
{
    private long _now = 1_000;
    private LanePolicy New() => new(() => _now);

    [Fact]
    public void A_cpu_lane_asks_for_the_main_lane_at_the_busy_rate_not_below_it()
    {
        var p = New();
        var w = new LanePolicy.LaneWindow();
        // 63 packets in one window: below the busy count.
        for (int i = 0; i < 63; i++) Assert.False(p.CpuLaneDrained(ref w, 1));
        _now += LanePolicy.BusyWindowMs; // a new window: the count starts again
        for (int i = 0; i < 63; i++) Assert.False(p.CpuLaneDrained(ref w, 1));
        Assert.True(p.CpuLaneDrained(ref w, 1), "64 packets within one window");
        // One wake-up that moved a whole burst (a super-packet's segments) is enough too.
        _now += 100;
        Assert.True(p.CpuLaneDrained(ref w, 64));
        Assert.False(p.CpuLaneDrained(ref w, 0));
    }

    [Fact]
    public void The_main_lane_asks_back_after_a_quiet_window_and_not_during_a_busy_one()
    {
        var p = New();
        Assert.Equal(-1, p.MainLaneTimeoutMs); // CPU lanes active: the main lane may sleep indefinitely
        p.Switched(cpuLanes: false);
        Assert.False(p.CpuLanesActive);
        Assert.Equal(LanePolicy.QuietWindowMs, p.MainLaneTimeoutMs);
        // Busy: 500 packets per window, several windows: it stays.
        for (int k = 0; k < 5; k++)
        {
            Assert.False(p.MainLaneDrained(250));
            _now += LanePolicy.QuietWindowMs / 2;
            Assert.False(p.MainLaneDrained(250));
            _now += LanePolicy.QuietWindowMs / 2;
        }
        // The window still open (250 packets) closes with this call: busy, it stays.
        Assert.False(p.MainLaneDrained(99));
        _now += LanePolicy.QuietWindowMs;
        Assert.True(p.MainLaneDrained(0), "a whole window with nothing moved");
        // Exactly at the quiet count it stays; one below, it asks back.
        p.Switched(cpuLanes: false);
        _now += 10;
        Assert.False(p.MainLaneDrained(LanePolicy.QuietPackets));
        _now += LanePolicy.QuietWindowMs;
        Assert.False(p.MainLaneDrained(0));
        _now += 10;
        Assert.False(p.MainLaneDrained(LanePolicy.QuietPackets - 1));
        _now += LanePolicy.QuietWindowMs;
        Assert.True(p.MainLaneDrained(0));
        p.Switched(cpuLanes: true);
        Assert.True(p.CpuLanesActive);
        // While the CPU lanes carry the traffic the main lane never asks.
        _now += 10 * LanePolicy.QuietWindowMs;
        Assert.False(p.MainLaneDrained(0));
    }

    [Fact]
    public void A_cpu_lane_does_not_ask_while_the_main_lane_already_carries_the_traffic()
    {
        var p = New();
        p.Switched(cpuLanes: false);
        var w = new LanePolicy.LaneWindow();
        Assert.False(p.CpuLaneDrained(ref w, 1000));
    }

    [Fact]
    public void The_switch_to_the_main_lane_starts_its_window_afresh()
    {
        var p = New();
        _now += 1000; // long since the last window
        p.Switched(cpuLanes: false);
        // Right after the switch a quiet moment must not send traffic back at once: a full window first.
        Assert.False(p.MainLaneDrained(0));
        _now += LanePolicy.QuietWindowMs - 1;
        Assert.False(p.MainLaneDrained(0));
        _now += 1;
        Assert.True(p.MainLaneDrained(0));
    }
}
