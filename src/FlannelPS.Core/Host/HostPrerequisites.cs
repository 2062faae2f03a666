// Checks a datapath backend needs before it touches the kernel, with errors that name what is missing.
using FlannelPS.Core.Errors;
using Tmds.Linux;

namespace FlannelPS.Core.Host;

public static class HostPrerequisites
{
    public const string TunDevicePath = "/dev/net/tun";

    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUid => (uint)LibC.geteuid();

    /// <summary>Throws unless <paramref name="euid"/> is root; <paramref name="why"/> says what the backend changes.</summary>
    public static void EnsureRoot(string backendType, uint euid, string why = "it changes links, routes and neighbour entries")
    {
        if (euid != 0)
            throw new FlannelException("FlannelRootRequired", FlannelErrorCategory.PermissionDenied,
                $"the {backendType} backend must run as root (effective uid is {euid}): {why}. Run as root, or use the alloc backend.",
                euid);
    }

    /// <summary>True when the effective uid is 0.</summary>
    public static bool RunningAsRoot => EffectiveUid == 0;

    /// <summary>Throws unless the process runs as root and /dev/net/tun exists.</summary>
    public static void EnsureRootAndTun(string backendType = "udp") =>
        EnsureRootAndTun(backendType, EffectiveUid, TunDevicePath);

    /// <summary>The same check for a given effective uid and TUN device path (tests pass both in).</summary>
    internal static void EnsureRootAndTun(string backendType, uint euid, string tunDevicePath)
    {
        EnsureRoot(backendType, euid, "it creates a TUN device, addresses and routes");
        if (!File.Exists(tunDevicePath))
            throw new FlannelException("FlannelTunUnavailable", FlannelErrorCategory.ResourceUnavailable,
                $"{tunDevicePath} is missing: the {backendType} backend needs the tun driver. Load it with 'modprobe tun' (in a container, pass the device in with --device {tunDevicePath}).",
                tunDevicePath);
    }
}
