// IHostNetwork over iproute2's JSON output (`ip -j addr show`, `ip -j -4 route show table main`),
// the same tool the node uses to set links up. Parsing is static so tests feed it captured output,
// and the Docker bridge step reads its bridge with it (`ip -j -d addr show dev docker0`).
using System.Text.Json;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public sealed class IpJsonHostNetwork(IpCommand? ip = null) : IHostNetwork
{
    private readonly IpCommand _ip = ip ?? new IpCommand();

    public IReadOnlyList<HostLink> GetLinks() => ParseLinks(_ip.RunChecked("-j", "addr", "show"));

    public IReadOnlyList<HostRoute> GetRoutes() => ParseRoutes(_ip.RunChecked("-j", "-4", "route", "show", "table", "main"));

    public HostLink? GetLink(string name) => GetLinks().FirstOrDefault(l => l.Name == name);

    // The rest of the seam is served by the rtnetlink implementation that replaces this class.
    public HostRoute? LookupRoute(Ip4 destination) => throw Unsupported();
    public IReadOnlyList<HostNeighbour> GetNeighbours(string device) => throw Unsupported();
    public IReadOnlyList<HostFdbEntry> GetFdbEntries(string device) => throw Unsupported();
    public VxlanLinkSpec? GetVxlan(string name) => throw Unsupported();
    public void AddVxlan(VxlanLinkSpec spec) => throw Unsupported();
    public void AddBridge(string name) => throw Unsupported();
    public bool DeleteLink(string name) => throw Unsupported();
    public void SetUp(string name) => throw Unsupported();
    public void SetMtu(string name, int mtu) => throw Unsupported();
    public bool AddAddress(string device, HostAddress address) => throw Unsupported();
    public bool DeleteAddress(string device, HostAddress address) => throw Unsupported();
    public IReadOnlyList<HostChangeResult> Apply(IReadOnlyList<HostChange> changes) => throw Unsupported();
    private static NotSupportedException Unsupported() => new("IpJsonHostNetwork only reads links and routes");

    public static IReadOnlyList<HostLink> ParseLinks(string json)
    {
        var links = new List<HostLink>();
        foreach (var e in ParseArray(json))
        {
            if (!e.TryGetProperty("ifname", out var name) || name.GetString() is not { Length: > 0 } ifname) continue;
            var up = e.TryGetProperty("flags", out var flags) && flags.ValueKind == JsonValueKind.Array
                && flags.EnumerateArray().Any(f => f.GetString() == "UP");
            var mtu = e.TryGetProperty("mtu", out var m) && m.TryGetInt32(out var mv) ? mv : 0;
            var addresses = new List<HostAddress>();
            if (e.TryGetProperty("addr_info", out var info) && info.ValueKind == JsonValueKind.Array)
            {
                foreach (var a in info.EnumerateArray())
                {
                    if (a.TryGetProperty("family", out var fam) && fam.GetString() == "inet"
                        && a.TryGetProperty("local", out var local) && Ip4.TryParse(local.GetString(), out var addr)
                        && a.TryGetProperty("prefixlen", out var len) && len.TryGetInt32(out var lv))
                        addresses.Add(new HostAddress(addr, lv));
                }
            }
            string? kind = e.TryGetProperty("linkinfo", out var li) && li.ValueKind == JsonValueKind.Object
                && li.TryGetProperty("info_kind", out var k) ? k.GetString() : null;
            links.Add(new HostLink(ifname, up, mtu, addresses, kind));
        }
        return links;
    }

    public static IReadOnlyList<HostRoute> ParseRoutes(string json)
    {
        var routes = new List<HostRoute>();
        foreach (var e in ParseArray(json))
        {
            if (!e.TryGetProperty("dst", out var dstProp) || dstProp.GetString() is not { } dstText) continue;
            Ip4Net dst;
            if (dstText == "default") dst = new Ip4Net(Ip4.Any, 0);
            else if (Ip4Net.TryParse(dstText, out var n)) dst = n;
            else if (Ip4.TryParse(dstText, out var host)) dst = new Ip4Net(host, 32);
            else continue;
            string? dev = e.TryGetProperty("dev", out var d) ? d.GetString() : null;
            Ip4? gw = e.TryGetProperty("gateway", out var g) && Ip4.TryParse(g.GetString(), out var gv) ? gv : null;
            var type = e.TryGetProperty("type", out var t) && t.GetString() is { Length: > 0 } tv ? tv : "unicast";
            routes.Add(new HostRoute(dst, dev, gw, type));
        }
        return routes;
    }

    private static List<JsonElement> ParseArray(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) return [];
            return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        }
        catch (JsonException ex)
        {
            throw new FlannelException("FlannelIpOutputInvalid", FlannelErrorCategory.InvalidData,
                $"Could not read the JSON output of 'ip -j': {ex.Message}. Is iproute2 recent enough for -j?", json, ex);
        }
    }
}
