// Applies flannel's rule sets with plain iptables and keeps them there, as flannel HEAD does: chains are
// created when absent and cleared of rules that are not the set's, each rule is checked with -C, and when any rule of a set is missing the whole
// set is deleted and re-added in order (flannel's ensure), so order stays right. RunAsync repeats
// that every ResyncPeriod. Rules are deliberately left in place on stop, as flannel HEAD does.
using System.Globalization;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Iptables;

public sealed class IptablesManager
{
    private readonly IIptablesRunner _runner;
    private readonly ILog _log;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly List<IReadOnlyList<IptablesRule>> _sets = [];
    private bool? _randomFully;

    public IptablesManager(IIptablesRunner? runner = null, ILog? log = null, TimeProvider? time = null)
    {
        _runner = runner ?? new ProcessIptablesRunner();
        _log = log ?? NullLog.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How often RunAsync re-checks the rules (flannel's --iptables-resync, default 5 s).</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromSeconds(5);

    public bool RandomFullySupported
    {
        get
        {
            if (_randomFully is { } known) return known;
            var r = _runner.Run(["--version"]);
            _randomFully = r.ExitCode == 0 && IptablesRules.VersionSupportsRandomFully(r.StandardOutput + r.StandardError);
            return _randomFully.Value;
        }
    }

    /// <summary>
    /// Installs the masquerade rules for Network + lease and keeps them in the resync set. When the
    /// previous run's network or subnet (from subnet.env) differ, the old rule set is deleted first.
    /// </summary>
    public void ApplyMasquerade(Ip4Net network, Ip4Net lease, Ip4Net? previousNetwork = null, Ip4Net? previousLease = null)
    {
        var randomFully = RandomFullySupported;
        if (previousNetwork is { } pn && previousLease is { } pl && (pn != network || pl != lease))
        {
            _log.Info($"Removing masquerade rules of the previous network {pn} / subnet {pl}");
            // The old jump rule is identical to the new one: keep it.
            DeleteRules(IptablesRules.Masquerade(pn, pl, randomFully).Skip(1).ToList());
        }
        var rules = IptablesRules.Masquerade(network, lease, randomFully);
        RemoveForeignRules(rules);
        Ensure(rules);
        Track(rules);
    }

    /// <summary>Installs the FLANNEL-FWD accept rules for the network and keeps them in the resync set.</summary>
    public void ApplyForward(Ip4Net network)
    {
        var rules = IptablesRules.Forward(network);
        RemoveForeignRules(rules);
        Ensure(rules);
        Track(rules);
    }

    /// <summary>
    /// Leaves in the set's own chains (FLANNEL-POSTRTG, FLANNEL-FWD) only rules of the set, as flanneld
    /// does when it starts (it flushes them). Whatever else is there came from an earlier run with
    /// another Network or from another flannel version's rule order, and would sit ahead of these.
    /// Rules are deleted by number, bottom up, so the ones that stay are never absent for a moment.
    /// </summary>
    private void RemoveForeignRules(IReadOnlyList<IptablesRule> rules)
    {
        foreach (var (table, chain) in IptablesRules.CustomChains(rules))
        {
            var listing = Run(["-t", table, "-S", chain]);
            if (listing.ExitCode != 0) continue; // no chain yet: Ensure creates it
            var own = rules.Where(r => r.Chain == chain).Select(r => r.ToSaveString()).ToHashSet(StringComparer.Ordinal);
            var foreign = listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(line => line.StartsWith($"-A {chain} ", StringComparison.Ordinal))
                .Select((line, i) => (Line: line, Number: i + 1))
                .Where(x => !own.Contains(x.Line))
                .ToList();
            if (foreign.Count == 0) continue;
            _log.Info($"Removing {foreign.Count} rule(s) from {chain} that this node does not make: {string.Join("; ", foreign.Select(f => f.Line))}");
            for (var i = foreign.Count - 1; i >= 0; i--)
                Check(Run(["-t", table, "-D", chain, foreign[i].Number.ToString(CultureInfo.InvariantCulture)]), $"delete rule {foreign[i].Number} of {chain}");
        }
    }

    /// <summary>
    /// Re-checks every applied set once; returns how many sets had to be re-added. A rule counts as
    /// present when its table's `iptables -S` listing has it, so a healthy pass costs one iptables
    /// run per table rather than one per rule; a rule the listing lacks is confirmed with -C first.
    /// </summary>
    public int Resync()
    {
        IReadOnlyList<IptablesRule>[] sets;
        lock (_gate) sets = [.. _sets];
        var listings = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var repaired = 0;
        foreach (var s in sets)
        {
            if (s.All(r => Listing(listings, r.Table).Contains(r.ToSaveString()) || Exists(r))) continue;
            Reinstall(s); // already proven incomplete: no second round of -C
            repaired++;
        }
        return repaired;
    }

    private HashSet<string> Listing(Dictionary<string, HashSet<string>> listings, string table)
    {
        if (!listings.TryGetValue(table, out var lines))
        {
            var r = Run(["-t", table, "-S"]);
            lines = r.ExitCode == 0
                ? r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
                : [];
            listings[table] = lines;
        }
        return lines;
    }

    /// <summary>Resyncs every ResyncPeriod until cancelled; a failed pass is logged and retried next period.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ResyncPeriod, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            try
            {
                if (Resync() > 0) _log.Info("iptables rules were missing and have been restored");
            }
            catch (FlannelException ex)
            {
                _log.Warning($"iptables resync failed: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// Makes sure every rule of the set is present; if any is missing, deletes them all and appends
    /// them in order. Returns true when it had to (re-)add.
    /// </summary>
    public bool Ensure(IReadOnlyList<IptablesRule> rules)
    {
        var missing = false;
        foreach (var r in rules)
        {
            if (!Exists(r)) { missing = true; break; }
        }
        if (!missing) return false;
        Reinstall(rules);
        return true;
    }

    /// <summary>Creates the set's chains when absent, deletes every rule of the set, and appends them in order.</summary>
    private void Reinstall(IReadOnlyList<IptablesRule> rules)
    {
        foreach (var (table, chain) in IptablesRules.CustomChains(rules)) EnsureChain(table, chain);
        DeleteRules(rules);
        foreach (var r in rules)
        {
            _log.Info($"Adding iptables rule: {r}");
            Check(Run(["-t", r.Table, "-A", r.Chain, .. r.Spec]), $"append {r}");
        }
    }

    /// <summary>Deletes each rule (every copy of it); missing rules are not an error.</summary>
    public void DeleteRules(IReadOnlyList<IptablesRule> rules)
    {
        foreach (var r in rules)
        {
            for (int i = 0; i < 16 && Run(["-t", r.Table, "-D", r.Chain, .. r.Spec]).ExitCode == 0; i++) { }
        }
    }

    public bool Exists(IptablesRule rule) => Run(["-t", rule.Table, "-C", rule.Chain, .. rule.Spec]).ExitCode == 0;

    private void EnsureChain(string table, string chain)
    {
        if (Run(["-t", table, "-S", chain]).ExitCode == 0) return;
        Check(Run(["-t", table, "-N", chain]), $"create chain {chain} in table {table}");
    }

    private void Track(IReadOnlyList<IptablesRule> rules)
    {
        lock (_gate)
        {
            // One set per (table, first custom chain): a new masquerade set replaces the old one.
            _sets.RemoveAll(s => s[0].Table == rules[0].Table && s[^1].Chain == rules[^1].Chain);
            _sets.Add(rules);
        }
    }

    private IptablesResult Run(string[] args) => _runner.Run(["-w", "5", .. args]);

    private static void Check(IptablesResult r, string what)
    {
        if (r.ExitCode != 0)
            throw new FlannelException("FlannelIptablesFailed", FlannelErrorCategory.InvalidOperation,
                $"iptables could not {what}: {r.StandardError.Trim()}", what);
    }
}
