// The shared base of the backends whose datapath is the kernel's (host-gw, vxlan), like flannel's
// RouteNetwork: each peer lease becomes an ordered list of kernel entries (vxlan: neighbour, FDB,
// route; host-gw: route), programmed stage by stage for all peers in one batch per stage, so the
// route, which is last, only goes in once its neighbour and FDB entry are there. A peer that fails a
// stage has its earlier entries removed. A removed lease takes its entries with it (route first); a
// changed lease (a new VtepMAC) has its stale entries deleted. Every RepairInterval the kernel is
// read back and any missing entry is programmed again.
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

    /// <summary>The peers currently programmed, by subnet (a copy).</summary>
    public IReadOnlyDictionary<Ip4Net, IReadOnlyList<HostEntry>> Programmed
    {
        get { lock (_gate) return new Dictionary<Ip4Net, IReadOnlyList<HostEntry>>(_programmed); }
    }

    public void HandleEvents(IReadOnlyList<LeaseEvent> events)
    {
        lock (_gate)
        {
            var add = new List<Lease>();
            var stale = new List<HostChange>();
            foreach (var e in events)
            {
                var subnet = e.Lease.Subnet;
                if (subnet == Lease.Subnet) continue; // our own lease is never a peer
                if (e.Type == LeaseEventType.Removed)
                {
                    Log.Info($"Subnet removed: {subnet}");
                    _wanted.Remove(subnet);
                    _ignored.Remove(subnet);
                    add.RemoveAll(l => l.Subnet == subnet);
                    if (_programmed.Remove(subnet, out var old)) stale.AddRange(Deletes(old));
                    continue;
                }
                if (!string.Equals(e.Lease.Attrs.BackendType, BackendType, StringComparison.Ordinal))
                {
                    if (_ignored.Add(subnet))
                        Log.Warning($"Ignoring non-{BackendType} subnet {subnet}: its lease has BackendType '{e.Lease.Attrs.BackendType ?? "(none)"}'");
                    continue;
                }
                _ignored.Remove(subnet);
                Log.Info($"Subnet added: {subnet} via {e.Lease.Attrs.PublicIP}");
                _wanted[subnet] = e.Lease;
                add.RemoveAll(l => l.Subnet == subnet);
                add.Add(e.Lease);
            }
            // Entries of a changed lease that its new entries do not overwrite (another MAC) go first.
            var next = new Dictionary<Ip4Net, IReadOnlyList<HostEntry>>();
            foreach (var lease in add)
            {
                IReadOnlyList<HostEntry> entries;
                try { entries = EntriesFor(lease); }
                catch (Exception ex) when (ex is FormatException or Errors.FlannelException)
                {
                    Log.Error($"Subnet {lease.Subnet}: {ex.Message}; not programmed");
                    _wanted.Remove(lease.Subnet);
                    continue;
                }
                next[lease.Subnet] = entries;
                if (_programmed.TryGetValue(lease.Subnet, out var old))
                    stale.AddRange(Deletes(old.Where(o => !entries.Any(n => SameKey(o, n))).ToList()));
            }
            if (stale.Count > 0) Host.Apply(stale);
            foreach (var s in next.Keys) _programmed.Remove(s);
            Program(next);
        }
    }

    /// <summary>Programs each peer's entries stage by stage; records the peers that got all of theirs.</summary>
    private void Program(Dictionary<Ip4Net, IReadOnlyList<HostEntry>> peers)
    {
        if (peers.Count == 0) return;
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
                cleanup.AddRange(Deletes(alive[subnet].Take(stage).ToList()));
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
            var routes = Host.GetRoutes();
            var devices = _programmed.Values.SelectMany(e => e).Where(e => e is not HostRoute).Select(e => e.Device!).Distinct().ToList();
            var neighbours = devices.SelectMany(Host.GetNeighbours).ToList();
            var fdb = devices.SelectMany(Host.GetFdbEntries).ToList();
            var again = new Dictionary<Ip4Net, IReadOnlyList<HostEntry>>();
            foreach (var (subnet, lease) in _wanted)
            {
                if (_programmed.TryGetValue(subnet, out var entries) && entries.All(e => Present(e, routes, neighbours, fdb))) continue;
                try { again[subnet] = EntriesFor(lease); }
                catch (Exception ex) when (ex is FormatException or Errors.FlannelException) { Log.Error($"Subnet {subnet}: {ex.Message}"); }
            }
            if (again.Count == 0) return 0;
            Log.Info($"Repairing kernel state of {again.Count} subnet(s): {string.Join(", ", again.Keys.Take(5))}{(again.Count > 5 ? ", …" : "")}");
            foreach (var s in again.Keys) _programmed.Remove(s);
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
            var all = new Dictionary<Ip4Net, IReadOnlyList<HostEntry>>();
            foreach (var (subnet, lease) in _wanted)
            {
                try { all[subnet] = EntriesFor(lease); }
                catch (Exception ex) when (ex is FormatException or Errors.FlannelException) { Log.Error($"Subnet {subnet}: {ex.Message}"); }
            }
            Program(all);
        }
    }

    private static bool Present(HostEntry e, IReadOnlyList<HostRoute> routes, List<HostNeighbour> neighbours, List<HostFdbEntry> fdb) => e switch
    {
        HostRoute r => routes.Any(k => k.Destination == r.Destination && k.Gateway == r.Gateway && (r.Device is null || k.Device == r.Device)),
        HostNeighbour n => neighbours.Any(k => k.Device == n.Device && k.Address == n.Address && k.Mac == n.Mac),
        HostFdbEntry f => fdb.Any(k => k.Device == f.Device && k.Mac == f.Mac && k.Destination == f.Destination),
        _ => true,
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
