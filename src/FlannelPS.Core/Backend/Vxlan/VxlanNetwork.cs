// A running vxlan backend: per peer lease, neighbour PERMANENT (peer's subnet address → its VTEP
// MAC), FDB self permanent (VTEP MAC → its PublicIP) and `subnet via subnet-address dev flannel.N
// onlink` last; with DirectRouting a peer on the same L2 segment gets `subnet via PublicIP`
// instead. Checks every second that the device still exists and recreates it (same MAC, so the
// lease stays true) with back-off from 1 s to 30 s, then programs every peer again.
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Host;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Backend.Vxlan;

public sealed class VxlanNetwork : KernelPeerNetwork
{
    private static readonly TimeSpan DeviceCheck = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly VxlanLinkSpec _device;
    private readonly bool _directRouting;
    private long _recreated;

    internal VxlanNetwork(IHostNetwork host, Lease lease, VxlanLinkSpec device, bool directRouting, ILog log, TimeProvider? time)
        : base(host, lease, device.Mtu, VxlanBackend.TypeName, log, time)
    {
        _device = device;
        _directRouting = directRouting;
    }

    public string DeviceName => _device.Name;

    protected override IReadOnlyList<HostEntry> EntriesFor(Lease peer)
    {
        if (_directRouting && Host.LookupRoute(peer.Attrs.PublicIP) is { Gateway: null } direct)
            return [new HostRoute(peer.Subnet, direct.Device, peer.Attrs.PublicIP)];
        return OverlayEntries(peer, _device.Name);
    }

    /// <summary>
    /// What flannel programs for a vxlan peer on <paramref name="device"/>, in order: the neighbour
    /// (subnet address → VTEP MAC), the FDB entry (VTEP MAC → PublicIP), then the onlink route, last so
    /// traffic flows only once the rest is there.
    /// </summary>
    internal static IReadOnlyList<HostEntry> OverlayEntries(Lease peer, string device)
    {
        var mac = VxlanLeaseData.ParseVtepMac(peer.Attrs.BackendData);
        return
        [
            new HostNeighbour(device, peer.Subnet.Address, mac),
            new HostFdbEntry(device, mac, peer.Attrs.PublicIP),
            new HostRoute(peer.Subnet, device, peer.Subnet.Address) { OnLink = true },
        ];
    }

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        var lastRepair = Time.GetUtcNow();
        var wait = DeviceCheck;
        while (true)
        {
            await Task.Delay(wait, Time, cancellationToken).ConfigureAwait(false);
            wait = DeviceCheck;
            try
            {
                if (Host.GetLink(_device.Name) is null)
                {
                    Log.Warning($"{_device.Name} was deleted; recreating it");
                    Host.AddVxlan(_device);
                    VxlanBackend.ConfigureDevice(Host, _device, Lease);
                    ReprogramAll();
                    Interlocked.Increment(ref _recreated);
                    Log.Info($"{_device.Name} recreated (MAC {_device.Mac}) and its peers programmed again");
                    backoff = TimeSpan.FromSeconds(1);
                }
                else if (Time.GetUtcNow() - lastRepair >= RepairInterval)
                {
                    lastRepair = Time.GetUtcNow();
                    Repair();
                }
            }
            catch (HostNetworkException ex)
            {
                Log.Warning($"vxlan: {ex.Message}; trying again in {backoff.TotalSeconds:0} s");
                wait = backoff;
                backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
            }
        }
    }

    protected override long DeviceRecreations => Interlocked.Read(ref _recreated);

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
