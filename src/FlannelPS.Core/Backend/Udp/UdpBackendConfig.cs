// The udp backend's part of the network config: {"Type":"udp","Port":N}, keys case-insensitive as
// Go reads them; Port defaults to 8285.
using System.Text.Json;
using FlannelPS.Core.Config;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Backend.Udp;

public sealed record UdpBackendConfig(int Port)
{
    public const int DefaultPort = 8285;

    public static readonly UdpBackendConfig Default = new(DefaultPort);

    /// <summary>Reads the Backend object (null when the config has none).</summary>
    public static UdpBackendConfig Parse(string? backendJson)
    {
        if (string.IsNullOrWhiteSpace(backendJson)) return Default;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(backendJson); }
        catch (JsonException ex)
        {
            throw new NetworkConfigInvalidException($"error decoding UDP backend config: {ex.Message}", backendJson, ex);
        }
        using (doc)
        {
            var o = GoJsonObject.Parse(doc.RootElement, "udp.backendConfig");
            var port = o.Int("Port") ?? DefaultPort;
            if (port is < 1 or > 65535)
                throw new NetworkConfigInvalidException($"invalid udp backend Port {port}: must be 1..65535", backendJson);
            return new UdpBackendConfig((int)port); // range-checked as the 64-bit number Go decodes
        }
    }
}
