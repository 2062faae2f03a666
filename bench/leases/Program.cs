// Lease control-plane figures, each next to a baseline measured in the same run on the same etcd:
//   1. median lease acquisition with 200 existing leases      vs a raw Put+Get round trip
//   2. 250 concurrent nodes (own clients) in a /16, /24 each   vs 250 concurrent raw Put+Get
//   3. new-lease propagation to 20 watching nodes, p99         vs a raw Put+Get round trip
using System.Collections.Concurrent;
using System.Diagnostics;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

var endpoint = args.Length > 0 ? args[0] : "http://127.0.0.1:2379";
const string Seed = """{"NetWork":"10.0.0.0/16"}""";
var config = NetworkConfigParser.Parse(Seed);

EtcdOptions Options(string prefix) => new() { Endpoints = [endpoint], Prefix = prefix, RequestTimeout = TimeSpan.FromSeconds(10) };
static Ip4 PublicIp(int i) => new(Ip4.Parse("198.51.100.0").Value + (uint)i); // documentation range; never contacted
static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }
static double Percentile(List<double> xs, double p) { xs.Sort(); return xs[Math.Min(xs.Count - 1, (int)Math.Ceiling(p * xs.Count) - 1)]; }

// ---- baseline: raw Put+Get round trip through the same client stack ----
await using var baseReg = new EtcdSubnetRegistry(Options("/bench/baseline"));
for (var i = 0; i < 20; i++) { await baseReg.PutNetworkConfigAsync(Seed, default); await baseReg.GetNetworkConfigAsync(default); }
var rtts = new List<double>();
for (var i = 0; i < 200; i++)
{
    var sw = Stopwatch.StartNew();
    await baseReg.PutNetworkConfigAsync(Seed, default);
    await baseReg.GetNetworkConfigAsync(default);
    rtts.Add(sw.Elapsed.TotalMilliseconds);
}
var rtt = Median(rtts);
Console.WriteLine($"baseline  raw Put+Get round trip, median of 200:            {rtt,8:0.00} ms");

// ---- 1. acquisition with 200 existing leases ----
{
    await using var reg = new EtcdSubnetRegistry(Options("/bench/acquire"));
    await reg.PutNetworkConfigAsync(Seed, default);
    for (var i = 1; i <= 200; i++)
        await reg.CreateLeaseAsync(new Ip4Net(Ip4.Parse("10.0.0.0").Add(i * 256L), 24), new LeaseAttrs(PublicIp(i)), SubnetManager.LeaseTtl, default);
    var manager = new SubnetManager(reg, new Random(7), NullLog.Instance);
    var times = new List<double>();
    for (var i = 0; i < 60; i++)
    {
        var sw = Stopwatch.StartNew();
        var lease = await manager.AcquireLeaseAsync(config, new LeaseAttrs(PublicIp(1000 + i)), null, default);
        var ms = sw.Elapsed.TotalMilliseconds;
        if (i >= 10) times.Add(ms); // first ones warm the JIT and connection
        await reg.DeleteLeaseAsync(lease.Subnet, default); // keep exactly 200 others
    }
    var snap = await reg.GetLeasesAsync(default);
    var med = Median(times);
    Console.WriteLine($"1. acquire with {snap.Leases.Count} existing leases, median of {times.Count}:     {med,8:0.00} ms  (target < 50 ms)   = {med / rtt,6:0.0}x baseline  {(med < 50 ? "PASS" : "FAIL")}");
}

// ---- 2. 250 concurrent nodes, each with its own client ----
{
    const int N = 250;
    var regs = new List<EtcdSubnetRegistry>();
    for (var i = 0; i < N; i++) regs.Add(new EtcdSubnetRegistry(Options("/bench/concurrent")));
    try
    {
        // Baseline: the same 250 clients each doing one raw Put+Get at once.
        var baseTasks = new List<Task>();
        var swBase = Stopwatch.StartNew();
        foreach (var r in regs) baseTasks.Add(Task.Run(async () => { await r.GetNetworkConfigAsync(default); }));
        await Task.WhenAll(baseTasks);
        // (first call above opened every connection; now the timed raw round)
        baseTasks.Clear();
        swBase.Restart();
        var seedReg = regs[0];
        await seedReg.PutNetworkConfigAsync(Seed, default);
        foreach (var r in regs) baseTasks.Add(Task.Run(async () => { await r.PutNetworkConfigAsync(Seed, default); await r.GetNetworkConfigAsync(default); }));
        await Task.WhenAll(baseTasks);
        var baseMs = swBase.Elapsed.TotalMilliseconds;

        var attempts = new CountingLog("Picking subnet in range");
        var managers = regs.Select((r, i) => new SubnetManager(r, new Random(i), attempts)).ToList();
        using var go = new ManualResetEventSlim();
        var sw = new Stopwatch();
        var tasks = managers.Select((m, i) => Task.Run(async () =>
        {
            go.Wait();
            return await m.AcquireLeaseAsync(config, new LeaseAttrs(PublicIp(i + 1)), null, default);
        })).ToArray();
        sw.Start();
        go.Set();
        Lease[] leases;
        string outcome;
        try
        {
            leases = await Task.WhenAll(tasks);
            outcome = $"{leases.Select(l => l.Subnet).Distinct().Count()} distinct of {N}";
        }
        catch (Exception ex)
        {
            leases = tasks.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToArray();
            outcome = $"{leases.Length} acquired, {tasks.Count(t => t.IsFaulted)} failed ({ex.Message})";
        }
        var s = sw.Elapsed.TotalSeconds;
        var distinct = leases.Select(l => l.Subnet).Distinct().Count() == N;
        Console.WriteLine($"2. {N} concurrent acquirers, /16 SubnetLen 24:            {s,8:0.00} s   (target < 10 s)   = {s * 1000 / baseMs,6:0.0}x baseline ({baseMs:0} ms for {N} concurrent raw Put+Get)  {outcome}, {attempts.Count} attempts  {(distinct && s < 10 ? "PASS" : "FAIL")}");
    }
    finally
    {
        foreach (var r in regs) await r.DisposeAsync();
    }
}

// ---- 3. propagation of a new lease to 20 watching nodes ----
{
    const int Watchers = 20, Leases = 50;
    var regs = Enumerable.Range(0, Watchers).Select(_ => new EtcdSubnetRegistry(Options("/bench/watch"))).ToList();
    await using var writer = new EtcdSubnetRegistry(Options("/bench/watch"));
    var seen = new ConcurrentDictionary<(int Watcher, Ip4Net Subnet), long>();
    using var cts = new CancellationTokenSource();
    var runs = new List<Task>();
    var watches = new List<PeerLeaseWatch>();
    for (var w = 0; w < Watchers; w++)
    {
        var id = w;
        var watch = new PeerLeaseWatch(regs[w], new Ip4Net(Ip4.Parse("10.0.0.0").Add(w * 256L), 24),
            batch => { var t = Stopwatch.GetTimestamp(); foreach (var e in batch) seen.TryAdd((id, e.Lease.Subnet), t); },
            _ => { }, TimeProvider.System, NullLog.Instance);
        watches.Add(watch);
        runs.Add(watch.RunAsync(cts.Token));
    }
    while (watches.Any(w => w.Revision == 0)) await Task.Delay(10);
    await Task.Delay(300); // streams open

    var latencies = new List<double>();
    for (var i = 0; i < Leases; i++)
    {
        var subnet = new Ip4Net(Ip4.Parse("10.0.0.0").Add((100 + i) * 256L), 24);
        var t0 = Stopwatch.GetTimestamp();
        await writer.CreateLeaseAsync(subnet, new LeaseAttrs(PublicIp(2000 + i)), SubnetManager.LeaseTtl, default);
        var deadline = Stopwatch.StartNew();
        while (Enumerable.Range(0, Watchers).Any(w => !seen.ContainsKey((w, subnet))) && deadline.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(1);
        for (var w = 0; w < Watchers; w++)
            latencies.Add(seen.TryGetValue((w, subnet), out var t) ? Stopwatch.GetElapsedTime(t0, t).TotalMilliseconds : 5000);
        await Task.Delay(20);
    }
    cts.Cancel();
    await Task.WhenAll(runs);
    foreach (var r in regs) await r.DisposeAsync();
    var p50 = Percentile(latencies, 0.50);
    var p99 = Percentile(latencies, 0.99);
    Console.WriteLine($"3. new lease seen by {Watchers} watching nodes, p99 of {latencies.Count}:     {p99,8:0.00} ms  (target < 100 ms)  = {p99 / rtt,6:0.0}x baseline  (p50 {p50:0.00} ms)  {(p99 < 100 ? "PASS" : "FAIL")}");
}

/// <summary>Counts log lines that start with a given text (here: one per acquisition attempt).</summary>
sealed class CountingLog(string prefix) : ILog
{
    private int _count;
    public int Count => _count;
    public bool IsEnabled(LogLevel level) => level >= LogLevel.Info;
    public void Write(LogLevel level, string message) { if (message.StartsWith(prefix, StringComparison.Ordinal)) Interlocked.Increment(ref _count); }
}
