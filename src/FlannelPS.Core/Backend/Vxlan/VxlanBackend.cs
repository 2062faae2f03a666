// flannel's vxlan backend as HEAD runs it: a kernel vxlan device flannel.<VNI> (nolearning, on the
// underlay interface and address, dstport 8472 unless configured) whose random locally administered
// MAC is advertised in the lease, so it is made before the lease is taken. Per peer the kernel gets
// a permanent neighbour entry, an FDB entry to the peer's PublicIP and an onlink route, in that
// order (VxlanNetwork). The kernel encapsulates; FlannelPS only programs it.
using System.Text.RegularExpressions;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.Vxlan;

public sealed partial class VxlanBackend(IHostNetwork? host = null, TimeProvider? time = null, Random? random = null) : IBackend
{
    public const string TypeName = "vxlan";

    /// <summary>Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) header bytes.</summary>
    public const int EncapOverhead = 50;

    private readonly IHostNetwork _host = host ?? new RtnetlinkHostNetwork();
    private readonly Random _random = random ?? Random.Shared;
    private VxlanConfig _config = VxlanConfig.Default;
    private BackendContext? _context;
    private VxlanLinkSpec? _device;
    private bool _created;
    private bool _started;

    public static BackendDescription Describe(VxlanConfig config) => new()
    {
        Type = TypeName,
        RequiresRoot = true,
        Device = config.DeviceName,
        EncapOverhead = EncapOverhead,
        PeerRoutes = PeerRouteStyle.ViaPeerSubnetOnDevice,
        DirectRouting = config.DirectRouting,
        UdpPort = config.EffectivePort,
        ConfigKeys = VxlanConfig.Keys,
        PeerEntries = (peer, device) => VxlanNetwork.OverlayEntries(peer, device).Where(e => e is not HostRoute).ToList(),
    };

    public static BackendKind Kind(IHostNetwork? host = null) =>
        new(TypeName, json => Describe(VxlanConfig.Parse(json)), () => new VxlanBackend(host), RemoveLeftovers);

    public BackendDescription Description => Describe(_config);

    /// <summary>Creates (or reuses) flannel.VNI and returns the lease attributes with its VNI and MAC.</summary>
    public Task<LeaseAttrs> PrepareAsync(BackendContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _config = VxlanConfig.Parse(context.Config.BackendJson);
        _context = context;
        var iface = context.Interface;
        // As flannel: the MTU key (default: the interface's) is the underlay's; the device is 50 bytes less.
        var mtu = (_config.Mtu ?? iface.Mtu) - EncapOverhead;
        var want = new VxlanLinkSpec(_config.DeviceName, _config.Vni, iface.Index, iface.IfaceAddr, _config.EffectivePort,
            _config.Learning, _config.Gbp, mtu, Net.MacAddress.NewRandomLocal(_random));
        var existing = _host.GetVxlan(want.Name);
        if (existing is not null && Compatible(existing, want))
        {
            want = want with { Mac = existing.Mac };
            if (existing.Mtu != mtu) _host.SetMtu(want.Name, mtu);
            context.Log.Info($"vxlan backend: reusing {want.Name} (VNI {want.Vni}, MAC {want.Mac})");
        }
        else
        {
            if (_host.GetLink(want.Name) is not null)
            {
                context.Log.Warning($"{want.Name} exists but is not compatible with the config (VNI {want.Vni}, dev index {want.UnderlayIndex}, local {want.Local}, port {want.Port}, gbp {want.Gbp}, learning {want.Learning}); recreating it");
                _host.DeleteLink(want.Name);
            }
            _host.AddVxlan(want);
            _created = true;
        }
        _device = want;
        return Task.FromResult(new LeaseAttrs(iface.ExtAddr, TypeName, VxlanLeaseData.Format(want.Vni, want.Mac)));
    }

    public Task<IBackendNetwork> StartAsync(Lease lease, CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("StartAsync before PrepareAsync");
        var device = _device!;
        ConfigureDevice(_host, device, lease);
        _started = true;
        context.Log.Info($"vxlan backend: {device.Name} VNI {device.Vni} MAC {device.Mac} {lease.Subnet.Address}/32 mtu {device.Mtu}, dstport {device.Port} via {context.Interface.Name} {device.Local}{(_config.DirectRouting ? ", DirectRouting" : "")}");
        return Task.FromResult<IBackendNetwork>(new VxlanNetwork(_host, lease, device, _config.DirectRouting, context.Log, time));
    }

    /// <summary>Its lease address as /32 and nothing else, then up.</summary>
    internal static void ConfigureDevice(IHostNetwork host, VxlanLinkSpec device, Lease lease)
    {
        var own = new HostAddress(lease.Subnet.Address, 32);
        var link = host.GetLink(device.Name) ?? throw new HostNetworkException("RTM_GETLINK", device.Name, 19, "ENODEV (No such device)");
        foreach (var a in link.Addresses.Where(a => a != own)) host.DeleteAddress(device.Name, a);
        host.AddAddress(device.Name, own);
        host.SetUp(device.Name);
    }

    /// <summary>Before a start, a device this backend created is removed again (the lease could not be had).</summary>
    public ValueTask DisposeAsync()
    {
        if (_created && !_started && _device is not null)
        {
            try { _host.DeleteLink(_device.Name); }
            catch (HostNetworkException ex) { _context?.Log.Warning($"could not remove {_device.Name}: {ex.Message}"); }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>flannel's test: VNI, underlay, local address, port, GBP and learning must match; MTU may be changed in place.</summary>
    public static bool Compatible(VxlanLinkSpec existing, VxlanLinkSpec want) =>
        existing.Vni == want.Vni && existing.UnderlayIndex == want.UnderlayIndex && existing.Local == want.Local
        && existing.Port == want.Port && existing.Gbp == want.Gbp && existing.Learning == want.Learning;

    /// <summary>flannel.N vxlan devices left by an earlier vxlan node (they outlive it); their routes go with them.</summary>
    public static void RemoveLeftovers(IHostNetwork host, NetworkConfig config, BackendDescription starting, ILog log)
    {
        foreach (var link in host.GetLinks().Where(l => l.Kind == "vxlan" && DeviceNamePattern().IsMatch(l.Name)))
        {
            log.Info($"Removing {link.Name}, left by an earlier vxlan node");
            host.DeleteLink(link.Name);
        }
    }

    [GeneratedRegex(@"^flannel\.\d+$")]
    private static partial Regex DeviceNamePattern();
}
