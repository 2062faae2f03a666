// The CPU lanes of the udp datapath on real TUN queues and a real SO_REUSEPORT group: a packet goes
// to the lane of the CPU the kernel handled it on, on both hosts, and a burst moves the traffic to
// the main lane until it is quiet again. Part of the OverlayFixture collection.
using System.Net;
using System.Net.Sockets;
using FlannelPS.Core.Backend.Udp.Datapath;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Tests.Fakes;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed partial class UdpOverlayTests
{
    private static long[] LanePackets(UdpForwarder f) => [.. f.GetUdpStatistics().LanePackets];

    /// <summary>Sends <paramref name="count"/> datagrams into A's flannel0 toward B's subnet from a thread pinned to <paramref name="cpu"/>.</summary>
    private void SendFromCpu(int cpu, int count)
    {
        fx.A.Thread.Invoke(() =>
        {
            var allowed = CpuAffinity.AllowedCpus();
            Assert.Equal(0, CpuAffinity.TryPinCurrentThread([cpu]));
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                var to = new IPEndPoint(IPAddress.Parse("10.0.2.77"), 9); // in B's subnet, no such host: nothing answers
                var payload = new byte[64];
                for (int i = 0; i < count; i++) s.SendTo(payload, to);
            }
            finally
            {
                CpuAffinity.TryPinCurrentThread(allowed);
            }
        });
    }

    private void AssertCpuLanesReady()
    {
        Assert.True(Environment.ProcessorCount >= 2, "CPU lanes need two or more CPUs; this machine has one");
        Assert.True(fx.A.Net.Forwarder.Plan.CpuLanes >= 2, $"host A runs {fx.A.Net.Forwarder.Plan}");
        Eventually.True(() => fx.A.Net.Forwarder.CpuLanesActive && fx.B.Net.Forwarder.CpuLanesActive, "both hosts to steer to their CPU lanes", 3000);
    }

    [Fact]
    public void A_packet_is_forwarded_by_the_lane_of_the_cpu_that_sent_it_on_both_hosts()
    {
        AssertCpuLanesReady();
        var a = fx.A.Net.Forwarder;
        var b = fx.B.Net.Forwarder;
        foreach (var cpu in CpuAffinity.AllowedCpus())
        {
            int lane = a.Plan.LaneOf(cpu);
            var beforeA = LanePackets(a);
            var beforeB = LanePackets(b);
            SendFromCpu(cpu, 1);
            // B's lane of the same CPU: A's lane thread is pinned there, so B's socket group saw the
            // datagram in a softirq on that CPU.
            Eventually.True(() => LanePackets(b)[lane] > beforeB[lane], $"B's lane {lane} (cpu {cpu}) to receive the datagram", 3000);
            var afterA = LanePackets(a);
            var afterB = LanePackets(b);
            for (int l = 0; l < afterA.Length; l++)
            {
                if (l == lane) continue;
                Assert.True(afterA[l] == beforeA[l], $"cpu {cpu}: A's lane {l} moved a packet; expected only lane {lane} ({string.Join("/", afterA)})");
                Assert.True(afterB[l] == beforeB[l], $"cpu {cpu}: B's lane {l} moved a packet; expected only lane {lane} ({string.Join("/", afterB)})");
            }
            Assert.Equal(beforeA[lane] + 1, afterA[lane]);
        }
        // What Get-FlannelNode shows.
        var stats = fx.A.Net.Udp;
        Assert.Equal(a.Plan.CpuLanes, stats.CpuLanes);
        Assert.True(stats.CpuLanesActive);
        Assert.Equal(a.Plan.Queues, stats.LanePackets.Count);
        Assert.Equal(stats.TunRxPackets + stats.UdpRxPackets, stats.LanePackets.Sum()); // every packet read, by exactly one lane
    }

    [Fact]
    public void A_burst_moves_traffic_to_the_main_lane_and_quiet_brings_it_back()
    {
        AssertCpuLanesReady();
        var a = fx.A.Net.Forwarder;
        long switches = a.SteeringSwitches, main = LanePackets(a)[0];
        var cpu = CpuAffinity.AllowedCpus()[0];
        // Far above the busy rate (64 packets in 10 ms); paced so the TUN queue (500) is not the subject.
        for (int i = 0; i < 20 && LanePackets(a)[0] == main; i++)
        {
            SendFromCpu(cpu, 200);
            Thread.Sleep(2);
        }
        Assert.True(LanePackets(a)[0] > main, $"the main lane never carried the burst (switches {a.SteeringSwitches - switches}, lanes {string.Join("/", LanePackets(a))})");
        Assert.True(a.SteeringSwitches > switches);
        // Quiet for longer than a window: back to the CPU lanes, where a lone packet goes again.
        Eventually.True(() => a.CpuLanesActive, "A to steer to its CPU lanes again after the burst", 3000);
        main = LanePackets(a)[0];
        int lane = a.Plan.LaneOf(cpu);
        long before = LanePackets(a)[lane];
        SendFromCpu(cpu, 1);
        Eventually.True(() => LanePackets(a)[lane] > before, $"lane {lane} to take a lone packet after the burst", 3000);
        Assert.Equal(main, LanePackets(a)[0]);
    }

    [Fact]
    public void Cpu_lane_threads_are_pinned_with_the_shortest_slice_and_the_main_lane_is_neither_but_runs_at_its_nice()
    {
        AssertCpuLanesReady();
        var plan = fx.A.Net.Forwarder.Plan;
        // The fixture's three hosts run in this process: threads by name, from /proc.
        var threads = Directory.GetDirectories("/proc/self/task")
            .Select(d => (Name: File.ReadAllText(Path.Combine(d, "comm")).Trim(), Dir: d))
            .Where(t => t.Name.StartsWith("flannel0-", StringComparison.Ordinal)).ToList();
        static long Slice(string dir) => long.Parse(File.ReadLines(Path.Combine(dir, "sched")).First(l => l.StartsWith("se.slice")).Split(':')[1].Trim());
        static string Allowed(string dir) => File.ReadLines(Path.Combine(dir, "status")).First(l => l.StartsWith("Cpus_allowed_list:")).Split(':')[1].Trim();
        Assert.Equal(3, threads.Count(t => t.Name == "flannel0-main"));
        for (int lane = 1; lane <= plan.CpuLanes; lane++)
        {
            var name = $"flannel0-lane{lane}";
            var lanes = threads.Where(t => t.Name == name).ToList();
            Assert.Equal(3, lanes.Count);
            Assert.All(lanes, t => Assert.Equal((long)UdpForwarder.CpuLaneSlice.TotalNanoseconds, Slice(t.Dir)));
            Assert.All(lanes, t => Assert.Equal(string.Join(",", plan.LaneCpus[lane - 1]), Allowed(t.Dir)));
        }
        Assert.All(threads.Where(t => t.Name == "flannel0-main"), t => Assert.NotEqual((long)UdpForwarder.CpuLaneSlice.TotalNanoseconds, Slice(t.Dir)));
        // Field 19 of stat is nice; the CPU lanes keep the process's.
        static int Nice(string dir) { var s = File.ReadAllText(Path.Combine(dir, "stat")); return int.Parse(s[(s.LastIndexOf(')') + 2)..].Split(' ')[16]); }
        int processNice = Nice("/proc/self");
        Assert.NotEqual(UdpForwarder.DefaultMainLaneNice, processNice);
        Assert.All(threads.Where(t => t.Name == "flannel0-main"), t => Assert.Equal(UdpForwarder.DefaultMainLaneNice, Nice(t.Dir)));
        Assert.All(threads.Where(t => t.Name != "flannel0-main"), t => Assert.Equal(processNice, Nice(t.Dir)));
    }
}
