// The BackendData of a vxlan lease: {"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}, written compact in
// flannel HEAD's field order and read with Go's case-insensitive keys.
using System.Text.Json;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Backend.Vxlan;

public static class VxlanLeaseData
{
    public static string Format(int vni, MacAddress vtepMac) =>
        $"{{\"VNI\":{vni.ToString(System.Globalization.CultureInfo.InvariantCulture)},\"VtepMAC\":\"{vtepMac}\"}}";

    /// <summary>The peer's VTEP MAC; throws FormatException naming what is wrong.</summary>
    public static MacAddress ParseVtepMac(string? backendData)
    {
        if (string.IsNullOrEmpty(backendData)) throw new FormatException("its vxlan lease has no BackendData (VtepMAC)");
        try
        {
            using var doc = JsonDocument.Parse(backendData);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
                foreach (var p in doc.RootElement.EnumerateObject())
                    if (p.Name.Equals("VtepMAC", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String)
                        return MacAddress.TryParse(p.Value.GetString(), out var mac)
                            ? mac
                            : throw new FormatException($"its VtepMAC '{p.Value.GetString()}' is not a MAC address");
        }
        catch (JsonException ex) { throw new FormatException($"its BackendData is not JSON: {ex.Message}", ex); }
        throw new FormatException($"its BackendData {backendData} has no VtepMAC");
    }
}
