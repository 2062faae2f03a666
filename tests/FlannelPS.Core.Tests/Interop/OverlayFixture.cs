// Three "hosts" (namespaces a, b, c) on one underlay 192.0.2.0/24 (a bridge in a fourth namespace),
// each running a real UdpBackend network with lease 10.0.<i>.0/24, all peers known to each other.
using FlannelPS.Core.Backend;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Tests.Interop;

public sealed class OverlayFixture : IDisposable
{
    public const string ConfigJson = """{"Network":"10.0.0.0/16","Backend":{"Type":"udp"}}""";

    internal sealed class OverlayHost
    {
        public required TestNamespace Ns { get; init; }
        public required NetnsThread Thread { get; init; }
        public required Lease Lease { get; init; }
        public UdpNetwork? Network { get; set; }
        public UdpNetwork Net => Network!;
    }

    private readonly List<IDisposable> _cleanup = [];
    internal TestNamespace Switch { get; }
    internal OverlayHost[] Hosts { get; } = new OverlayHost[3];
    internal OverlayHost A => Hosts[0];
    internal OverlayHost B => Hosts[1];
    internal OverlayHost C => Hosts[2];

    public OverlayFixture()
    {
        try
        {
            Switch = new TestNamespace("sw");
            _cleanup.Add(Switch);
            Switch.Ip("link", "add", "br0", "type", "bridge").Ok("bridge");
            Switch.Ip("link", "set", "br0", "up").Ok("bridge up");
            var config = NetworkConfigParser.Parse(ConfigJson);
            for (int i = 0; i < 3; i++)
            {
                var tag = ((char)('a' + i)).ToString();
                var ns = new TestNamespace(tag);
                _cleanup.Add(ns);
                ns.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "p" + tag, "netns", Switch.Name).Ok("veth");
                Switch.Ip("link", "set", "p" + tag, "master", "br0", "up").Ok("port");
                ns.Ip("addr", "add", $"192.0.2.{i + 1}/24", "dev", "eth0").Ok("addr");
                ns.Ip("link", "set", "eth0", "up").Ok("eth0 up");
                var thread = new NetnsThread(ns.Name);
                _cleanup.Add(thread);
                var lease = new Lease { Subnet = Ip4Net.Parse($"10.0.{i + 1}.0/24"), Attrs = new LeaseAttrs(Ip4.Parse($"192.0.2.{i + 1}")) };
                var host = new OverlayHost { Ns = ns, Thread = thread, Lease = lease };
                Hosts[i] = host;
                host.Network = thread.Invoke(() =>
                {
                    var iface = ExternalInterfaceResolver.Resolve("eth0");
                    var ctx = new BackendNetworkContext(config, lease, iface, NullLog.Instance);
                    return (UdpNetwork)new UdpBackend().StartNetworkAsync(ctx, CancellationToken.None).GetAwaiter().GetResult();
                });
            }
            foreach (var h in Hosts)
                h.Net.HandleEvents(Hosts.Where(p => p != h).Select(p => new LeaseEvent(LeaseEventType.Added, p.Lease)).ToList());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var h in Hosts)
        {
            if (h?.Network is { } n) h.Thread.Invoke(() => n.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }
        for (int i = _cleanup.Count - 1; i >= 0; i--) _cleanup[i].Dispose();
    }
}
