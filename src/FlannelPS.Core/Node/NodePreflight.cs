// What can be checked before a node starts, so a bad setting is an error at the prompt (or a flanneld
// exit 1), not a job or a service that fails seconds later: the -PublicIP text, the -Interface
// candidates, root, /dev/net/tun and the udp port for a backend that needs them. Each failure is a
// FlannelException with a stable id naming the bad value.
using System.Net;
using System.Net.Sockets;
using FlannelPS.Core.Backend;
using FlannelPS.Core.Config;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;
using Tmds.Linux;

namespace FlannelPS.Core.Node;

public static class NodePreflight
{
    /// <summary>
    /// Everything <see cref="CheckSettings"/> checks, plus what running here needs: root and
    /// /dev/net/tun for the udp backend, and its UDP port free. <paramref name="config"/> is the network
    /// config when it could be read; without it the backend is not known yet, so only root is checked
    /// (flannel's default backend needs it) and TUN and the port wait for the node.
    /// </summary>
    public static void Check(NodeOptions options, NetworkConfig? config) =>
        Check(options, config, HostPrerequisites.EffectiveUid, HostPrerequisites.TunDevicePath);

    /// <summary>The same with the effective uid and TUN path given (tests pass both in).</summary>
    public static void Check(NodeOptions options, NetworkConfig? config, uint euid, string tunDevicePath)
    {
        var iface = CheckSettings(options);
        BackendDescription? backend = null;
        if (config is not null)
        {
            try { backend = BackendRegistry.Default.Describe(config); }
            catch (FlannelException) { return; } // an unknown backend or bad keys: the node reports that itself
        }
        if (backend is null)
        {
            if (euid != 0)
                throw new FlannelException("FlannelRootRequired", FlannelErrorCategory.PermissionDenied,
                    $"a flannel node must run as root (effective uid is {euid}): it writes the subnet file and, with the default udp backend, creates a TUN device and routes. Run as root.", euid);
            return;
        }
        backend.EnsureHostPrerequisites(euid, tunDevicePath);
        // A TUN backend binds its UDP port itself (vxlan's belongs to the kernel device).
        if (backend.NeedsTun && backend.UdpPort is { } port) EnsureUdpPortFree(iface?.IfaceAddr, port);
    }

    /// <summary>
    /// The checks that hold wherever the node will run (Install-FlannelService writes a unit that runs
    /// as root later): -PublicIP parses, and when -Interface (or -PublicIP alone) is given, the interface
    /// it selects exists. Returns that interface, or null when the default-route one is left to the node.
    /// </summary>
    public static ExternalInterface? CheckSettings(NodeOptions options)
    {
        PublicIPOption.Parse(options.PublicIP);
        // --iface-regex and --iface-can-reach depend on the addresses and routes the host has when the
        // node starts, so only -Interface (or -PublicIP alone) is resolved ahead.
        if (options.Interfaces.Count == 0 && string.IsNullOrEmpty(options.PublicIP)) return null;
        return FlannelNodeFactory.ResolveInterface(options with { InterfaceRegexes = [], InterfaceCanReach = null }, NullLog.Instance);
    }

    /// <summary>Throws FlannelPortInUse when another socket holds UDP <paramref name="port"/> on the address (or on any address).</summary>
    public static void EnsureUdpPortFree(Ip4? address, int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var ip = address is { } a ? a.ToIPAddress() : IPAddress.Any;
        try
        {
            probe.Bind(new IPEndPoint(ip, port));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new FlannelException("FlannelPortInUse", FlannelErrorCategory.ResourceUnavailable,
                $"UDP port {port} on {ip} is already in use, so the udp backend cannot listen there. Stop what holds it (another flanneld?) or set Backend.Port in the network config.", port, ex);
        }
    }
}
