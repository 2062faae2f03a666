// The shared base of the backends whose datapath is the kernel's (host-gw, vxlan), like flannel's
// RouteNetwork: each peer lease becomes an ordered list of kernel entries (vxlan: neighbour, FDB,
// route; host-gw: route), programmed stage by stage for all peers in one batch per stage, so the
// route, which is last, only goes in once its neighbour and FDB entry are there. A peer that fails a
// stage keeps nothing of its own in the kernel (see Program). A removed lease takes its entries with
// it (route first); a changed lease (a new VtepMAC) has its stale entries deleted. Every
// RepairInterval the kernel is read back and any missing entry is programmed again.
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend;

public abstract class KernelPeerNetwork : IBackendNetwork
{
    /// <summary>flannel re-checks its routes every 10 s.</summary>
    public static readonly TimeSpan DefaultRepairInterval = TimeSpan.FromSeconds(10);

    private readonly object _gate = new();
    private readonly Dictionary<Ip4Net, Lease> _wanted = new();
    private readonly Dictionary<Ip4Net, IReadOnlyList<HostEntry>> _programmed = new();
    private readonly HashSet<Ip4Net> _ignored = new();
    private long _programFailures;
    private long _repairs;

    protected KernelPeerNetwork(IHostNetwork host, Lease lease, int mtu, string backendType, ILog log, TimeProvider? time)
    {
        Host = host;
        Lease = lease;
        Mtu = mtu;
        BackendType = backendType;
        Log = log;
        Time = time ?? TimeProvider.System;
    }

    protected IHostNetwork Host { get; }
    protected ILog Log { get; }
    protected TimeProvider Time { get; }
    public Lease Lease { get; }
    public int Mtu { get; }
    public string BackendType { get; }
    public TimeSpan RepairInterval { get; init; } = DefaultRepairInterval;

    /// <summary>The entries for <paramref name="peer"/>, in programming order (the route last).</summary>
    protected abstract IReadOnlyList<HostEntry> EntriesFor(Lease peer);

    public void HandleEvents(IReadOnlyList<LeaseEvent> events)
    {
        lock (_gate)
        {
            var add = new Dictionary<Ip4Net, Lease>(); // the last event of a subnet wins
            var stale = new List<HostChange>();
            foreach (var e in events)
            {
                var subnet = e.Lease.Subnet;
                if (subnet == Lease.Subnet) continue; // our own lease is never a peer
                add.Remove(subnet);
                if (e.Type == LeaseEventType.Removed)
                {
                    Log.Info($"Subnet removed: {subnet}");
                    _wanted.Remove(subnet);
                    _ignored.Remove(subnet);
                    if (_programmed.Remove(subnet, out var old)) stale.AddRange(Deletes(old));
                    continue;
                }
                if (!string.Equals(e.Lease.Attrs.BackendType, BackendType, StringComparison.Ordinal))
                {
                    if (_ignored.Add(subnet))
                        Log.Warning($"Ignoring non-{BackendType} subnet {subnet}: its lease has BackendType '{e.Lease.Attrs.BackendType ?? "(none)"}'");
                    _wanted.Remove(subnet); // a peer that switched backends keeps none of this one's entries
                    if (_programmed.Remove(subnet, out var switched)) stale.AddRange(Deletes(switched));
                    continue;
                }
                _ignored.Remove(subnet);
                Log.Info($"Subnet added: {subnet} via {e.Lease.Attrs.PublicIP}");
                _wanted[subnet] = e.Lease;
                add[subnet] = e.Lease;
            }
            // Entries of a changed lease that its new entries do not overwrite (another MAC) go first;
            // the rest are overwritten stage by stage, and removed by Program if their stage fails.
            var next = EntriesOf(add.Values);
            var before = new Dictionary<Ip4Net, IReadOnlyList<HostEntry>>();
            foreach (var (subnet, entries) in next)
                if (_programmed.Remove(subnet, out var old))
                {
                    before[subnet] = old;
                    stale.AddRange(Deletes(old.Where(o => !entries.Any(n => SameKey(o, n))).ToList()));
                }
            if (stale.Count > 0) Host.Apply(stale);
            Program(next, before);
        }
    }

    /// <summary>Each lease's entries; a lease whose entries cannot be made (a bad VtepMAC) is logged and left out of what is wanted.</summary>
    private Dictionary<Ip4Net, IReadOnlyList<HostEntry>> EntriesOf(IEnumerable<Lease> leases)
    {
        var result = new Dictionary<Ip4Net, IReadOnlyList<HostEntry>>();
        foreach (var lease in leases.ToList())
        {
            try { result[lease.Subnet] = EntriesFor(lease); }
            catch (Exception ex) when (ex is FormatException or Errors.FlannelException)
            {
                Log.Error($"Subnet {lease.Subnet}: {ex.Message}; not programmed");
                _wanted.Remove(lease.Subnet);
            }
        }
        return result;
    }

    /// <summary>
    /// Programs each peer's entries stage by stage; records the peers that got all of theirs. A peer
    /// that fails a stage keeps nothing in the kernel: the entries of its earlier stages are deleted,
    /// and so are the entries it had before (<paramref name="before"/>, or what was recorded as
    /// programmed) that the failed and later stages were to overwrite — left, nothing would track them,
    /// and a later removal of the lease would leave them behind for good.
    /// </summary>
    private void Program(Dictionary<Ip4Net, IReadOnlyList<HostEntry>> peers, Dictionary<Ip4Net, IReadOnlyList<HostEntry>>? before = null)
    {
        if (peers.Count == 0) return;
        before ??= new();
        foreach (var subnet in peers.Keys)
            if (_programmed.Remove(subnet, out var recorded)) before[subnet] = recorded;
        var alive = new Dictionary<Ip4Net, IReadOnlyList<HostEntry>>(peers);
        var stages = peers.Values.Max(e => e.Count);
        var cleanup = new List<HostChange>();
        for (var stage = 0; stage < stages && alive.Count > 0; stage++)
        {
            var batch = new List<(Ip4Net Subnet, HostChange Change)>();
            foreach (var (subnet, entries) in alive)
                if (stage < entries.Count) batch.Add((subnet, HostChange.Replace(entries[stage])));
            var results = Host.Apply(batch.Select(b => b.Change).ToList());
            for (var i = 0; i < results.Count; i++)
            {
                if (results[i].Succeeded) continue;
                var subnet = batch[i].Subnet;
                Interlocked.Increment(ref _programFailures);
                Log.Error($"Subnet {subnet}: failed to {results[i].Change}: {results[i].Error}; will retry");
                var entries = alive[subnet];
                if (before.TryGetValue(subnet, out var old))
                    cleanup.AddRange(Deletes(old.Where(o => entries.Skip(stage).Any(n => SameKey(o, n))).ToList()));
                cleanup.AddRange(Deletes(entries.Take(stage).ToList()));
                alive.Remove(subnet);
            }
        }
        if (cleanup.Count > 0) Host.Apply(cleanup);
        foreach (var (subnet, entries) in alive) _programmed[subnet] = entries;
    }

    private static IEnumerable<HostChange> Deletes(IReadOnlyList<HostEntry> entries)
    {
        for (var i = entries.Count - 1; i >= 0; i--) yield return HostChange.Delete(entries[i]);
    }

    /// <summary>Same kernel key: a replace of one overwrites the other.</summary>
    private static bool SameKey(HostEntry a, HostEntry b) => (a, b) switch
    {
        (HostRoute x, HostRoute y) => x.Destination == y.Destination,
        (HostNeighbour x, HostNeighbour y) => x.Device == y.Device && x.Address == y.Address,
        (HostFdbEntry x, HostFdbEntry y) => x == y,
        _ => false,
    };

    /// <summary>
    /// Re-reads the kernel and programs again every wanted peer whose entries are not all there (a
    /// route deleted by hand, a peer that failed before). Returns the number of peers reprogrammed.
    /// </summary>
    public int Repair()
    {
        lock (_gate)
        {
            var devices = _programmed.Values.SelectMany(e => e).Where(e => e is not HostRoute).Select(e => e.Device!).Distinct();
            var kernel = Host.GetRoutes().Cast<HostEntry>()
                .Concat(devices.SelectMany(d => Host.GetNeighbours(d).Cast<HostEntry>().Concat(Host.GetFdbEntries(d))))
                .Select(Identity)
                .ToHashSet();
            var missing = _wanted.Values.Where(l => !_programmed.TryGetValue(l.Subnet, out var entries) || !entries.All(e => kernel.Contains(Identity(e))));
            var again = EntriesOf(missing);
            if (again.Count == 0) return 0;
            Log.Info($"Repairing kernel state of {again.Count} subnet(s): {string.Join(", ", again.Keys.Take(5))}{(again.Count > 5 ? ", …" : "")}");
            Program(again);
            Interlocked.Add(ref _repairs, again.Count);
            return again.Count;
        }
    }

    /// <summary>Forgets what was programmed and programs every wanted peer again (after the device was recreated).</summary>
    protected void ReprogramAll()
    {
        lock (_gate)
        {
            _programmed.Clear();
            var all = EntriesOf(_wanted.Values);
            Program(all);
        }
    }

    /// <summary>What makes a kernel entry the one FlannelPS wrote, whatever flags the kernel reports with it.</summary>
    private static HostEntry Identity(HostEntry e) => e switch
    {
        HostRoute r => new HostRoute(r.Destination, r.Device, r.Gateway, r.Type),
        HostNeighbour n => new HostNeighbour(n.Device!, n.Address, n.Mac),
        _ => e,
    };

    /// <summary>Runs the repair pass every RepairInterval (and the subclass's own checks) until cancelled.</summary>
    public virtual async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(RepairInterval, Time, cancellationToken).ConfigureAwait(false);
            try { Repair(); }
            catch (HostNetworkException ex) { Log.Warning($"{BackendType}: repair pass failed: {ex.Message}"); }
        }
    }

    public BackendStatistics GetStatistics()
    {
        int count;
        lock (_gate) count = _programmed.Count;
        return BackendStatistics.Empty with
        {
            Detail = new KernelPeerStatistics(count, Interlocked.Read(ref _programFailures), Interlocked.Read(ref _repairs), DeviceRecreations),
        };
    }

    /// <summary>vxlan counts how often it made its device again; 0 elsewhere.</summary>
    protected virtual long DeviceRecreations => 0;

    /// <summary>
    /// Stops; the kernel entries stay, as flannel leaves them, so traffic to known peers keeps flowing
    /// while the node restarts. A node of another backend removes them (BackendKind.RemoveLeftovers).
    /// </summary>
    public abstract ValueTask DisposeAsync();
}
