// Per-link kernel settings that live in /proc/sys rather than rtnetlink. /proc/sys/net shows the
// calling thread's network namespace, like the netlink socket the rest of the host seam opens.
namespace FlannelPS.Core.Host;

public static class LinkSysctl
{
    /// <summary>Turns IPv6 off on a link, so no router solicitations are the first packets a new TUN carries.</summary>
    public static void DisableIpv6(string link)
    {
        try { File.WriteAllText($"/proc/sys/net/ipv6/conf/{link}/disable_ipv6", "1"); }
        catch (DirectoryNotFoundException) { } // IPv6 is off in this kernel: nothing to do
        catch (FileNotFoundException) { }
    }
}
