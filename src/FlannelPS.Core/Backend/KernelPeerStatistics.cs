// The detail part of a kernel backend's statistics (vxlan, host-gw): how its per-peer kernel
// state is kept.
using System.Globalization;

namespace FlannelPS.Core.Backend;

/// <param name="ProgrammedPeers">Peers whose kernel entries are all in place.</param>
/// <param name="ProgramFailures">Kernel changes refused so far (each is retried by the repair pass).</param>
/// <param name="RepairedPeers">Peers programmed again because their entries had gone missing.</param>
/// <param name="DeviceRecreations">vxlan: times flannel.N was found deleted and made again.</param>
public sealed record KernelPeerStatistics(int ProgrammedPeers, long ProgramFailures, long RepairedPeers, long DeviceRecreations = 0)
{
    /// <summary>One line for Get-FlannelNode | Format-List.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"programmed {ProgrammedPeers}, changes refused {ProgramFailures}, repaired {RepairedPeers}, device recreated {DeviceRecreations}");
}
