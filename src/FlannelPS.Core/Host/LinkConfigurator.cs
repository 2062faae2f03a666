// Link setup the udp backend needs (spec §4.1): MTU, address, up, the route to the overlay Network,
// and removal of the routes it added. Kernel state is changed through IpCommand.
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Host;

public sealed class LinkConfigurator(IpCommand? ip = null)
{
    private readonly IpCommand _ip = ip ?? new IpCommand();

    public void SetMtu(string link, int mtu) => _ip.RunChecked("link", "set", "dev", link, "mtu", mtu.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void AddAddress(string link, Ip4 address, int prefixLength) =>
        _ip.RunChecked("addr", "add", $"{address}/{prefixLength}", "dev", link);

    public void SetUp(string link) => _ip.RunChecked("link", "set", "dev", link, "up");

    /// <summary>Adds <c>dst dev link</c>; false when an identical route already exists (EEXIST is ignored, as flannel does).</summary>
    public bool AddRoute(Ip4Net destination, string link)
    {
        string[] args = ["route", "add", destination.ToString(), "dev", link];
        var r = _ip.Run(args);
        if (r.ExitCode == 0) return true;
        if (r.StandardError.Contains("File exists", StringComparison.Ordinal)) return false;
        throw _ip.Failed(args, r);
    }

    /// <summary>Deletes <c>dst dev link</c>; false when it was already gone (e.g. the link went away with it).</summary>
    public bool DeleteRoute(Ip4Net destination, string link) =>
        _ip.Run("route", "del", destination.ToString(), "dev", link).ExitCode == 0;

    /// <summary>Turns IPv6 off on a link through /proc/sys (this thread's namespace), so no router solicitations reach a TUN.</summary>
    public static void DisableIpv6(string link)
    {
        try { File.WriteAllText($"/proc/sys/net/ipv6/conf/{link}/disable_ipv6", "1"); }
        catch (DirectoryNotFoundException) { } // IPv6 is off in this kernel: nothing to do
        catch (FileNotFoundException) { }
    }
}
