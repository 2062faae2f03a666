// Fakes for the node checks (the host is Fakes/RecordingHostNetwork): an iptables that answers -C
// from a rule set, and a pinger that answers for chosen addresses and counts what it sent.
using FlannelPS.Core.Health;
using FlannelPS.Core.Host;
using FlannelPS.Core.Iptables;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Tests.Health;

internal sealed class FakeIptables : IIptablesRunner
{
    public HashSet<string> Rules { get; } = [];
    public void Add(IEnumerable<IptablesRule> rules) { foreach (var r in rules) Rules.Add(r.ToString()); }
    public void Remove(IptablesRule rule) => Rules.Remove(rule.ToString());

    public IptablesResult Run(IReadOnlyList<string> args)
    {
        // -w 5 -t TABLE -C CHAIN spec...
        var a = args.ToList();
        if (a[0] == "-w") a.RemoveRange(0, 2);
        if (a[0] != "-t" || a[2] != "-C") return new IptablesResult(2, "", "unexpected call");
        var rule = new IptablesRule(a[1], a[3], a.Skip(4).ToList());
        return Rules.Contains(rule.ToString()) ? new IptablesResult(0, "", "") : new IptablesResult(1, "", "Bad rule");
    }
}

internal sealed class FakePinger : IPinger
{
    public HashSet<Ip4> Reachable { get; } = [];
    public List<Ip4> Sent { get; } = [];
    public Task<bool> PingAsync(Ip4 address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Sent.Add(address);
        return Task.FromResult(Reachable.Contains(address));
    }
}
