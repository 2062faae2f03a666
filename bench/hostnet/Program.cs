// Programming 500 vxlan peers (neighbour + FDB entry + onlink route each, 1500 kernel objects) and
// removing them again, three ways, in the same namespace and run:
//   rtnetlink  RtnetlinkHostNetwork.Apply: one message train per direction
//   batch      iproute2 in batch mode: `ip -batch` (neigh, route) + `bridge -batch` (fdb), 2 processes per direction
//   per-entry  one `ip`/`bridge` process per object, the shape of the shell-outs rtnetlink replaced
// Runs inside a namespace that run.sh made (it acts on the process's own namespace).
using System.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;

const int Peers = 500;
const string Dev = "flannel.1";
var host = new RtnetlinkHostNetwork();

var eth = host.GetLink("eth0") ?? throw new InvalidOperationException("eth0 missing: run through bench/hostnet/run.sh");
host.AddVxlan(new VxlanLinkSpec(Dev, 1, eth.Index, Ip4.Parse("192.0.2.10"), 8472, false, false, 1450, MacAddress.Parse("02:11:22:33:44:55")));
host.AddAddress(Dev, new HostAddress(Ip4.Parse("10.0.1.0"), 32));
host.SetUp(Dev);

var peers = Enumerable.Range(0, Peers).Select(p =>
{
    var subnet = Ip4.Parse("10.1.0.0").Add(p * 256L);
    var mac = new MacAddress(0x02_00_00_00_00_00UL + (ulong)p + 1);
    return (Neigh: new HostNeighbour(Dev, subnet, mac), Fdb: new HostFdbEntry(Dev, mac, Ip4.Parse("198.51.100.0").Add(p % 250 + 1)),
        Route: new HostRoute(new Ip4Net(subnet, 24), Dev, subnet) { OnLink = true });
}).ToList();
List<HostChange> Changes(HostChangeKind kind) => peers.SelectMany(p => new HostEntry[] { p.Neigh, p.Fdb, p.Route })
    .Select(e => new HostChange(kind, e)).ToList();

void Check(int expected, string what)
{
    var n = host.GetNeighbours(Dev).Count;
    var f = host.GetFdbEntries(Dev).Count;
    var r = host.GetRoutes().Count(x => x.Device == Dev && x.OnLink);
    if ((n, f, r) != (expected, expected, expected)) throw new InvalidOperationException($"{what}: {n} neighbours, {f} fdb entries, {r} routes, expected {expected} each");
}

static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

// ---- rtnetlink ----
var add = new List<double>();
var del = new List<double>();
for (int round = 0; round < 17; round++)
{
    var replace = Changes(HostChangeKind.Replace);
    var delete = Changes(HostChangeKind.Delete);
    GC.Collect();
    var sw = Stopwatch.StartNew();
    host.ApplyOrThrow(replace);
    var a = sw.Elapsed.TotalMilliseconds;
    Check(Peers, "after rtnetlink apply");
    GC.Collect();
    sw.Restart();
    host.ApplyOrThrow(delete);
    var d = sw.Elapsed.TotalMilliseconds;
    Check(0, "after rtnetlink delete");
    if (round >= 2) { add.Add(a); del.Add(d); } // the first rounds warm the JIT
}
var nlAdd = Median(add);
var nlDel = Median(del);

// ---- iproute2 batch mode ----
string Batch(IEnumerable<string> lines)
{
    var path = Path.Combine(Path.GetTempPath(), $"fphn-{Environment.ProcessId}-{Guid.NewGuid():N}.batch");
    File.WriteAllLines(path, lines);
    return path;
}
void Run(string file, params string[] args)
{
    var r = ChildProcess.Run(file, args, TimeSpan.FromSeconds(60));
    if (r.TimedOut || r.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {r.StandardError}");
}
var ipAdd = Batch(peers.SelectMany(p => new[] { $"neigh replace {p.Neigh.Address} lladdr {p.Neigh.Mac} dev {Dev} nud permanent", $"route replace {p.Route.Destination} via {p.Route.Gateway} dev {Dev} onlink" }));
var brAdd = Batch(peers.Select(p => $"fdb replace {p.Fdb.Mac} dev {Dev} dst {p.Fdb.Destination} self permanent"));
var ipDel = Batch(peers.SelectMany(p => new[] { $"route del {p.Route.Destination} via {p.Route.Gateway} dev {Dev}", $"neigh del {p.Neigh.Address} dev {Dev}" }));
var brDel = Batch(peers.Select(p => $"fdb del {p.Fdb.Mac} dev {Dev} dst {p.Fdb.Destination} self"));
add.Clear(); del.Clear();
try
{
    for (int round = 0; round < 9; round++)
    {
        var sw = Stopwatch.StartNew();
        Run("ip", "-batch", ipAdd);
        Run("bridge", "-batch", brAdd);
        add.Add(sw.Elapsed.TotalMilliseconds);
        Check(Peers, "after ip -batch");
        sw.Restart();
        Run("ip", "-batch", ipDel);
        Run("bridge", "-batch", brDel);
        del.Add(sw.Elapsed.TotalMilliseconds);
        Check(0, "after ip -batch delete");
    }
}
finally
{
    foreach (var f in new[] { ipAdd, brAdd, ipDel, brDel }) File.Delete(f);
}
var batchAdd = Median(add);
var batchDel = Median(del);

// ---- one process per entry (once: it is slow) ----
var swp = Stopwatch.StartNew();
foreach (var p in peers)
{
    Run("ip", "neigh", "replace", p.Neigh.Address.ToString(), "lladdr", p.Neigh.Mac.ToString(), "dev", Dev, "nud", "permanent");
    Run("bridge", "fdb", "replace", p.Fdb.Mac.ToString(), "dev", Dev, "dst", p.Fdb.Destination.ToString(), "self", "permanent");
    Run("ip", "route", "replace", p.Route.Destination.ToString(), "via", p.Route.Gateway.ToString()!, "dev", Dev, "onlink");
}
var perAdd = swp.Elapsed.TotalMilliseconds;
Check(Peers, "after per-entry ip");
swp.Restart();
foreach (var p in peers)
{
    Run("ip", "route", "del", p.Route.Destination.ToString(), "via", p.Route.Gateway.ToString()!, "dev", Dev);
    Run("bridge", "fdb", "del", p.Fdb.Mac.ToString(), "dev", Dev, "dst", p.Fdb.Destination.ToString(), "self");
    Run("ip", "neigh", "del", p.Neigh.Address.ToString(), "dev", Dev);
}
var perDel = swp.Elapsed.TotalMilliseconds;
Check(0, "after per-entry ip delete");

Console.WriteLine($"{Peers} vxlan peers = {Peers * 3} kernel objects (neighbour, fdb, onlink route each); {Environment.ProcessorCount} cores");
Console.WriteLine($"                          program     remove");
Console.WriteLine($"rtnetlink Apply (median)  {nlAdd,8:0.0} ms {nlDel,8:0.0} ms   (target < 1000 ms each: {(nlAdd < 1000 && nlDel < 1000 ? "PASS" : "FAIL")})");
Console.WriteLine($"ip/bridge -batch (median) {batchAdd,8:0.0} ms {batchDel,8:0.0} ms   rtnetlink = {batchAdd / nlAdd,5:0.0}x / {batchDel / nlDel,5:0.0}x faster");
Console.WriteLine($"one ip per entry (once)   {perAdd,8:0.0} ms {perDel,8:0.0} ms   rtnetlink = {perAdd / nlAdd,5:0.0}x / {perDel / nlDel,5:0.0}x faster");
return nlAdd < 1000 && nlDel < 1000 ? 0 : 1;
