// flannel's choice of the underlay interface (v0.6.1 lookupExtIface): -Interface as a name
// or an IPv4 address, else the interface of the first default route; its first global-unicast IPv4
// (link-local as a fallback, never loopback); its MTU (0 is an error). ExtAddr is the public-IP
// override or the interface address. Reads the calling thread's network namespace.
using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public static class ExternalInterfaceResolver
{
    // /proc/net is the process's namespace; thread-self follows a thread that called setns.
    private const string RouteFile = "/proc/thread-self/net/route";

    /// <param name="interfaceNameOrAddress">-Interface / --iface: a link name or one of its IPv4 addresses; null or empty for the default-route interface.</param>
    /// <param name="publicIP">-PublicIP / --public-ip override for ExtAddr.</param>
    public static ExternalInterface Resolve(string? interfaceNameOrAddress, Ip4? publicIP = null, ILog? log = null)
    {
        log ??= NullLog.Instance;
        var links = ReadIpv4Links();
        string name;
        Ip4 address;

        if (!string.IsNullOrEmpty(interfaceNameOrAddress))
        {
            if (Ip4.TryParse(interfaceNameOrAddress, out var wanted))
            {
                var owner = links.FirstOrDefault(l => l.Addresses.Contains(wanted))
                    ?? throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
                        $"error looking up interface {interfaceNameOrAddress}: no interface has the IPv4 address {interfaceNameOrAddress}. Pass an address that is assigned on this host, or an interface name.",
                        interfaceNameOrAddress);
                name = owner.Name;
                address = wanted;
            }
            else
            {
                var link = links.FirstOrDefault(l => l.Name == interfaceNameOrAddress)
                    ?? throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
                        $"error looking up interface {interfaceNameOrAddress}: no interface named '{interfaceNameOrAddress}' (known: {string.Join(", ", links.Select(l => l.Name))}).",
                        interfaceNameOrAddress);
                name = link.Name;
                address = PickAddress(link);
            }
        }
        else
        {
            log.Info("Determining IP address of default interface");
            var defaultName = DefaultRouteInterface()
                ?? throw new FlannelException("FlannelNoDefaultRoute", FlannelErrorCategory.ObjectNotFound,
                    "failed to get default interface: this host has no default route. Pass -Interface with the underlay interface name or address.",
                    RouteFile);
            var link = links.FirstOrDefault(l => l.Name == defaultName)
                ?? throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
                    $"failed to get IPv4 address of default interface {defaultName}: it has no IPv4 address. Pass -Interface.", defaultName);
            name = link.Name;
            address = PickAddress(link);
        }

        return Finish(name, address, publicIP, log);
    }

    /// <summary>
    /// --iface-regex: the first IPv4 address of this host (interfaces in kernel order) whose text the
    /// pattern matches anywhere, else the first interface whose name it matches; as flannel does, a
    /// name match then takes that interface's own address.
    /// </summary>
    public static ExternalInterface ResolveByRegex(string pattern, Ip4? publicIP = null, ILog? log = null)
    {
        log ??= NullLog.Instance;
        Regex regex;
        try { regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException ex)
        {
            throw new FlannelException("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument,
                $"--iface-regex '{pattern}' is not a valid regular expression: {ex.Message}", pattern, ex);
        }
        var links = ReadIpv4Links();
        foreach (var link in links)
            foreach (var a in link.Addresses)
                if (regex.IsMatch(a.ToString())) return Finish(link.Name, a, publicIP, log);
        foreach (var link in links)
            if (regex.IsMatch(link.Name)) return Finish(link.Name, PickAddress(link), publicIP, log);
        throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
            $"Could not match pattern {pattern} to any of the available network interfaces ({string.Join(", ", links.Select(l => l.Name))})", pattern);
    }

    /// <summary>--iface-can-reach: the interface the kernel would send a packet to <paramref name="destination"/>
    /// through (`ip route get`), with the route's source address (else the interface's first address).</summary>
    public static ExternalInterface ResolveCanReach(string destination, Ip4? publicIP = null, ILog? log = null, IHostNetwork? host = null)
    {
        log ??= NullLog.Instance;
        if (!Ip4.TryParse(destination, out var target))
            throw new FlannelException("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument,
                $"--iface-can-reach '{destination}' is not a valid IPv4 address.", destination);
        log.Info($"Determining interface to use based on given ifaceCanReach: {target}");
        host ??= new RtnetlinkHostNetwork();
        var route = host.LookupRoute(target);
        if (route?.Device is not { } dev)
            throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
                $"failed to get ifaceCanReach: no route to {target}", destination);
        var link = ReadIpv4Links().FirstOrDefault(l => l.Name == dev)
            ?? throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound,
                $"failed to get ifaceCanReach: the route to {target} leaves through {dev}, which has no IPv4 address", destination);
        return Finish(link.Name, route.Source ?? PickAddress(link), publicIP, log);
    }

    private static ExternalInterface Finish(string name, Ip4 address, Ip4? publicIP, ILog log)
    {
        if (!InterfaceInfo.TryGet(name, out var index, out var mtu))
            throw new FlannelException("FlannelInterfaceNotFound", FlannelErrorCategory.ObjectNotFound, $"interface {name} disappeared while it was being looked up", name);
        if (mtu == 0)
            throw new FlannelException("FlannelInterfaceMtuZero", FlannelErrorCategory.InvalidData,
                $"failed to determine MTU for {address} interface: {name} reports MTU 0", name);

        var ext = publicIP ?? address;
        log.Info($"Using interface with name {name} and address {address}");
        log.Info(publicIP is null ? $"Defaulting external address to interface address ({address})" : $"Using {ext} as external endpoint");
        return new ExternalInterface(name, index, address, ext, mtu);
    }

    /// <summary>The interface of the first route in /proc/net/route whose destination is 0.0.0.0 with mask 0.</summary>
    public static string? DefaultRouteInterface()
    {
        string[] lines;
        try { lines = File.ReadAllLines(RouteFile); }
        catch (IOException) { lines = File.ReadAllLines("/proc/net/route"); }
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (f.Length < 8) continue;
            if (uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var dst) && dst == 0 &&
                uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask) && mask == 0)
                return f[0];
        }
        return null;
    }

    /// <summary>Go's IP.IsGlobalUnicast for IPv4: not unspecified, loopback, multicast, link-local or broadcast.</summary>
    public static bool IsGlobalUnicast(Ip4 ip)
    {
        var v = ip.Value;
        return v != 0 && v != uint.MaxValue && (v >> 24) != 127 && (v >> 28) != 0xE && (v >> 16) != 0xA9FE;
    }

    private static bool IsLinkLocal(Ip4 ip) => (ip.Value >> 16) == 0xA9FE;

    private static Ip4 PickAddress(Link link)
    {
        foreach (var a in link.Addresses) if (IsGlobalUnicast(a)) return a;
        foreach (var a in link.Addresses) if (IsLinkLocal(a)) return a;
        throw new FlannelException("FlannelInterfaceNoAddress", FlannelErrorCategory.ObjectNotFound,
            $"failed to find IPv4 address for interface {link.Name}: it has no global-unicast or link-local IPv4 address (loopback is never used).", link.Name);
    }

    private sealed record Link(string Name, List<Ip4> Addresses);

    private static List<Link> ReadIpv4Links()
    {
        // getifaddrs (behind NetworkInterface) opens its netlink socket on this thread, so it sees this
        // thread's namespace; only names and addresses are taken from it (MTU comes from an ioctl).
        var result = new List<Link>();
        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            var addrs = new List<Ip4>();
            foreach (var ua in ni.GetIPProperties().UnicastAddresses)
                if (ua.Address.AddressFamily == AddressFamily.InterNetwork) addrs.Add(Ip4.FromIPAddress(ua.Address));
            result.Add(new Link(ni.Name, addrs));
        }
        return result;
    }
}
