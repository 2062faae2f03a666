// Pure rendering against flannel HEAD's rule sets, then the manager against a real namespace's iptables (nft backend).
using FlannelPS.Core.Iptables;
using FlannelPS.Core.Net;
using FlannelPS.Core.Tests.Interop;

namespace FlannelPS.Core.Tests.Iptables;

public sealed class IptablesRulesTests
{
    [Fact]
    public void Masquerade_rules_match_flannel_head()
    {
        var lines = IptablesRules.Masquerade(Ip4Net.Parse("10.0.0.0/16"), Ip4Net.Parse("10.0.72.0/24"), randomFully: true).Select(r => r.ToSaveString());
        Assert.Equal(
        [
            "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
            "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
            "-A FLANNEL-POSTRTG -s 10.0.72.0/24 -d 10.0.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN",
            "-A FLANNEL-POSTRTG -s 10.0.0.0/16 -d 10.0.72.0/24 -m comment --comment \"flanneld masq\" -j RETURN",
            "-A FLANNEL-POSTRTG ! -s 10.0.0.0/16 -d 10.0.72.0/24 -m comment --comment \"flanneld masq\" -j RETURN",
            "-A FLANNEL-POSTRTG -s 10.0.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
            "-A FLANNEL-POSTRTG ! -s 10.0.0.0/16 -d 10.0.0.0/16 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
        ], lines);
        Assert.All(IptablesRules.Masquerade(Ip4Net.Parse("10.0.0.0/16"), Ip4Net.Parse("10.0.72.0/24"), false),
            r => Assert.DoesNotContain("--random-fully", r.Spec));
    }

    [Fact]
    public void Forward_rules_match_flannel_head()
    {
        Assert.Equal(
        [
            "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
            "-A FLANNEL-FWD -s 10.0.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
            "-A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
        ], IptablesRules.Forward(Ip4Net.Parse("10.0.0.0/16")).Select(r => r.ToSaveString()));
    }

    [Theory]
    [InlineData("iptables v1.8.9 (nf_tables)", true)]
    [InlineData("iptables v1.6.2", true)]
    [InlineData("iptables v1.6.1", false)]
    [InlineData("garbage", false)]
    public void Random_fully_needs_iptables_1_6_2(string version, bool expected) =>
        Assert.Equal(expected, IptablesRules.VersionSupportsRandomFully(version));
}

public sealed class IptablesManagerTests : IDisposable
{
    private readonly TestNamespace _ns = new("ipt");
    private readonly IptablesManager _m;
    private static readonly Ip4Net Network = Ip4Net.Parse("10.0.0.0/16");
    private static readonly Ip4Net Lease = Ip4Net.Parse("10.0.72.0/24");

    public IptablesManagerTests() =>
        _m = new IptablesManager(new ProcessIptablesRunner(["ip", "netns", "exec", _ns.Name])) { ResyncPeriod = TimeSpan.FromMilliseconds(200) };

    public void Dispose() => _ns.Dispose();

    private string Nat() => _ns.Exec("iptables", "-t", "nat", "-S").Ok("nat -S").Out;
    private string Filter() => _ns.Exec("iptables", "-S").Ok("-S").Out;

    private const string ExpectedNat = """
        -P PREROUTING ACCEPT
        -P INPUT ACCEPT
        -P OUTPUT ACCEPT
        -P POSTROUTING ACCEPT
        -N FLANNEL-POSTRTG
        -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
        -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG -s 10.0.72.0/24 -d 10.0.0.0/16 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG -s 10.0.0.0/16 -d 10.0.72.0/24 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG ! -s 10.0.0.0/16 -d 10.0.72.0/24 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG -s 10.0.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
        -A FLANNEL-POSTRTG ! -s 10.0.0.0/16 -d 10.0.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully

        """;

    private const string ExpectedFilter = """
        -P INPUT ACCEPT
        -P FORWARD ACCEPT
        -P OUTPUT ACCEPT
        -N FLANNEL-FWD
        -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
        -A FLANNEL-FWD -s 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
        -A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT

        """;

    [Fact]
    public void Applies_exact_rules_idempotently()
    {
        _m.ApplyMasquerade(Network, Lease);
        _m.ApplyForward(Network);
        Assert.Equal(ExpectedNat, Nat());
        Assert.Equal(ExpectedFilter, Filter());
        _m.ApplyMasquerade(Network, Lease);
        _m.ApplyForward(Network);
        Assert.Equal(0, _m.Resync());
        Assert.Equal(ExpectedNat, Nat());
        Assert.Equal(ExpectedFilter, Filter());
    }

    [Fact]
    public void A_healthy_resync_lists_each_table_once_instead_of_checking_every_rule()
    {
        var runner = new CountingRunner(new ProcessIptablesRunner(["ip", "netns", "exec", _ns.Name]));
        var m = new IptablesManager(runner);
        m.ApplyMasquerade(Network, Lease);
        m.ApplyForward(Network);
        runner.Calls.Clear();
        Assert.Equal(0, m.Resync());
        Assert.Equal(["-w 5 -t nat -S", "-w 5 -t filter -S"], runner.Calls);

        // A rule deleted behind its back is still found and the set restored in order.
        _ns.Exec("iptables", "-D", "FLANNEL-FWD", "-d", "10.0.0.0/16", "-m", "comment", "--comment", "flanneld forward", "-j", "ACCEPT").Ok("delete a rule");
        Assert.Equal(1, m.Resync());
        Assert.Equal(ExpectedFilter, Filter());
        Assert.Equal(ExpectedNat, Nat());
    }

    private sealed class CountingRunner(IIptablesRunner inner) : IIptablesRunner
    {
        public List<string> Calls { get; } = [];
        public IptablesResult Run(IReadOnlyList<string> args)
        {
            lock (Calls) Calls.Add(string.Join(' ', args));
            return inner.Run(args);
        }
    }

    [Fact]
    public async Task Resync_loop_restores_a_deleted_rule_in_order()
    {
        _m.ApplyMasquerade(Network, Lease);
        _m.ApplyForward(Network);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var loop = _m.RunAsync(cts.Token);
        _ns.Exec("iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "-s", "10.0.0.0/16", "-d", "10.0.72.0/24",
            "-m", "comment", "--comment", "flanneld masq", "-j", "RETURN").Ok("delete a rule");
        _ns.Exec("iptables", "-D", "FORWARD", "-m", "comment", "--comment", "flanneld forward", "-j", "FLANNEL-FWD").Ok("delete the jump");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((Nat() != ExpectedNat || Filter() != ExpectedFilter) && DateTime.UtcNow < deadline) await Task.Delay(100);
        await cts.CancelAsync();
        await loop;
        Assert.Equal(ExpectedNat, Nat());
        Assert.Equal(ExpectedFilter, Filter());
    }

    [Fact]
    public void Rules_another_run_left_in_flannels_chains_are_removed_as_flanneld_does_at_start()
    {
        // What flanneld v0.20.2 leaves for another Network (its order, without the lease-to-network RETURN), and a stray rule.
        _m.ApplyMasquerade(Ip4Net.Parse("10.5.0.0/16"), Ip4Net.Parse("10.5.95.0/24"));
        _m.ApplyForward(Ip4Net.Parse("10.5.0.0/16"));
        _ns.Exec("iptables", "-t", "nat", "-I", "FLANNEL-POSTRTG", "2", "-s", "10.5.0.0/16", "-d", "10.5.0.0/16",
            "-m", "comment", "--comment", "flanneld masq", "-j", "RETURN").Ok("v0.20.2 rule");
        _ns.Exec("iptables", "-A", "FLANNEL-FWD", "-s", "10.99.0.0/16", "-j", "ACCEPT").Ok("stray rule");
        var m = new IptablesManager(new ProcessIptablesRunner(["ip", "netns", "exec", _ns.Name]));
        m.ApplyMasquerade(Network, Lease);
        m.ApplyForward(Network);
        Assert.Equal(ExpectedNat, Nat());
        Assert.Equal(ExpectedFilter, Filter());
    }

    [Fact]
    public void Old_rule_set_is_removed_when_the_subnet_changed()
    {
        _m.ApplyMasquerade(Network, Ip4Net.Parse("10.0.73.0/24"));
        _m.ApplyMasquerade(Network, Lease, previousNetwork: Network, previousLease: Ip4Net.Parse("10.0.73.0/24"));
        Assert.Equal(ExpectedNat, Nat());
    }
}
