// The vxlan backend's part of the network config, read as flannel HEAD reads it (keys
// case-insensitive): VNI (default 1), Port (0: the kernel's default, 8472 on Linux), GBP,
// DirectRouting, Learning, MTU. MTU is the underlay's packet size, as in flannel: flannel.N gets
// MTU − 50 (the VXLAN headers); absent (or 0), the external interface's MTU is used.
using System.Text.Json;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Backend.Vxlan;

/// <param name="Mtu">The underlay MTU the device is sized for (flannel.N gets Mtu − 50); null: the external interface's.</param>
public sealed record VxlanConfig(int Vni, int Port, bool Gbp, bool DirectRouting, bool Learning, int? Mtu)
{
    public const int DefaultVni = 1;

    /// <summary>Linux's vxlan port when none is given (the pre-IANA one; IANA's is 4789).</summary>
    public const int KernelDefaultPort = 8472;

    /// <summary>The smallest MTU key: the device gets 68, the least IPv4 allows.</summary>
    public const int MinimumMtu = 68 + VxlanBackend.EncapOverhead;

    public static readonly VxlanConfig Default = new(DefaultVni, 0, false, false, false, null);

    public static readonly IReadOnlyList<string> Keys = ["VNI", "Port", "GBP", "DirectRouting", "Learning", "MTU"];

    /// <summary>The UDP port on the wire: Port, or 8472.</summary>
    public int EffectivePort => Port == 0 ? KernelDefaultPort : Port;

    /// <summary>flannel names the device after the VNI.</summary>
    public string DeviceName => $"flannel.{Vni}";

    public static VxlanConfig Parse(string? backendJson)
    {
        if (string.IsNullOrWhiteSpace(backendJson)) return Default;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(backendJson); }
        catch (JsonException ex)
        {
            throw new NetworkConfigInvalidException($"error decoding VXLAN backend config: {ex.Message}", backendJson, ex);
        }
        using (doc)
        {
            var o = GoJsonObject.Parse(doc.RootElement, "vxlan.backendConfig");
            var vni = o.Int("VNI") ?? DefaultVni;
            if (vni is < 0 or > 16777215)
                throw new NetworkConfigInvalidException($"invalid vxlan VNI {vni}: must be 0..16777215 (24 bits)", backendJson);
            var port = o.Int("Port") ?? 0;
            if (port is < 0 or > 65535)
                throw new NetworkConfigInvalidException($"invalid vxlan Port {port}: must be 1..65535, or 0 for the kernel's default 8472", backendJson);
            var mtu = o.Int("MTU");
            if (mtu is { } m && m != 0 && (m < MinimumMtu || m > 65535))
                throw new NetworkConfigInvalidException(
                    $"invalid vxlan MTU {m}: must be {MinimumMtu}..65535 (the underlay's MTU; flannel.{vni} gets MTU − {VxlanBackend.EncapOverhead}), or absent for the external interface's MTU",
                    backendJson);
            // Each value is range-checked above as the 64-bit number Go decodes, so narrowing is safe.
            return new VxlanConfig((int)vni, (int)port, o.Bool("GBP") ?? false, o.Bool("DirectRouting") ?? false, o.Bool("Learning") ?? false,
                mtu is { } checkedMtu && checkedMtu != 0 ? (int)checkedMtu : null);
        }
    }
}
