using FlannelPS.Core.Config;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Backend.Udp.Datapath;

public sealed class UdpBackendConfigTests
{
    [Theory]
    [InlineData(null, 8285)]
    [InlineData("""{"Type":"udp"}""", 8285)]
    [InlineData("""{"Type":"udp","Port":9000}""", 9000)]
    [InlineData("""{"type":"UDP","port":7000}""", 7000)]
    [InlineData("""{"Port":1,"PORT":2}""", 2)]
    public void Port_is_read_case_insensitively_with_default_8285(string? json, int port) =>
        Assert.Equal(port, UdpBackendConfig.Parse(json).Port);

    [Theory]
    [InlineData("""{"Port":"8285"}""")]
    [InlineData("""{"Port":70000}""")]
    [InlineData("""{"Port":0}""")]
    [InlineData("""{"Port":4294975581}""")] // 8285 + 2^32: must not wrap to 8285
    [InlineData("""{"Port":9223372036854775808}""")]
    public void Bad_ports_are_rejected(string json) =>
        Assert.Throws<NetworkConfigInvalidException>(() => UdpBackendConfig.Parse(json));

    [Fact]
    public void Lease_attrs_carry_only_the_public_ip()
    {
        if (!Environment.UserName.Equals("root", StringComparison.Ordinal)) return; // Prepare checks for root and /dev/net/tun
        var config = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/16"}""");
        var attrs = new UdpBackend().PrepareAsync(new BackendContext(config, new ExternalInterface("eth0", 2, Ip4.Parse("192.0.2.1"), Ip4.Parse("198.51.100.1"), 1500), Diagnostics.NullLog.Instance), default).GetAwaiter().GetResult();
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":null}""", attrs.ToJson());
    }
}

public sealed class UdpDatapathTuningTests
{
    [Fact]
    public void Unset_or_unparsable_values_leave_the_datapath_quiet_with_the_kernel_slice()
    {
        Assert.Equal(UdpDatapathTuning.Default, UdpDatapathTuning.Parse(null, null));
        Assert.Equal(UdpDatapathTuning.Default, UdpDatapathTuning.Parse("soon", "-5"));
        Assert.Equal(TimeSpan.Zero, UdpDatapathTuning.Parse("0", null).StatsInterval);
    }

    [Fact]
    public void Seconds_and_microseconds_are_read_invariantly_and_the_slice_is_capped()
    {
        var t = UdpDatapathTuning.Parse("0.5", "250");
        Assert.Equal(TimeSpan.FromMilliseconds(500), t.StatsInterval);
        Assert.Equal(TimeSpan.FromMicroseconds(250), t.Slice);
        Assert.Equal(TimeSpan.FromMilliseconds(100), UdpDatapathTuning.Parse(null, "5000000").Slice);
    }

    [Fact]
    public void The_main_lane_nice_defaults_to_minus_five_is_clamped_and_zero_is_normal()
    {
        Assert.Equal(-5, UdpDatapathTuning.Default.MainLaneNice);
        Assert.Equal(-5, UdpDatapathTuning.Parse(null, null, nice: "high").MainLaneNice);
        Assert.Equal(0, UdpDatapathTuning.Parse(null, null, nice: "0").MainLaneNice);
        Assert.Equal(-10, UdpDatapathTuning.Parse(null, null, nice: " -10 ").MainLaneNice);
        Assert.Equal(-20, UdpDatapathTuning.Parse(null, null, nice: "-40").MainLaneNice);
        Assert.Equal(19, UdpDatapathTuning.Parse(null, null, nice: "25").MainLaneNice);
        var vars = new Dictionary<string, string> { [UdpDatapathTuning.NiceVariable] = "3", [UdpDatapathTuning.OffloadsVariable] = "0" };
        var t = UdpDatapathTuning.FromVariables(vars.GetValueOrDefault);
        Assert.Equal((3, false), (t.MainLaneNice, t.Offloads));
    }

    [Fact]
    public void Cpu_lanes_default_to_one_per_cpu_and_can_be_turned_off()
    {
        Assert.Null(UdpDatapathTuning.Default.CpuLanes);
        Assert.Null(UdpDatapathTuning.Parse(null, null, "many").CpuLanes);
        Assert.Null(UdpDatapathTuning.Parse(null, null, "-1").CpuLanes);
        Assert.Equal(0, UdpDatapathTuning.Parse(null, null, "0").CpuLanes);
        Assert.Equal(4, UdpDatapathTuning.Parse(null, null, "4").CpuLanes);
    }
}
