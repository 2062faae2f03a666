// Parses and validates <prefix>/config exactly as flannel HEAD's ParseConfig + CheckNetworkConfig,
// with flannel's own error texts, since those are what users search for.
using System.Text.Json;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Config;

public static class NetworkConfigParser
{
    /// <summary>Backend type names flannel knows; FlannelPS runs only some of them (see BackendRegistry).</summary>
    public static readonly IReadOnlyList<string> KnownBackendTypes =
        ["udp", "vxlan", "host-gw", "alloc", "ipip", "ipsec", "wireguard", "extension", "tencent-vpc", "aws-vpc", "gce"];

    public static NetworkConfig Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException ex)
        {
            throw new NetworkConfigInvalidException($"invalid character in network config JSON: {ex.Message}", json, ex);
        }

        using (doc)
        {
            var root = GoJsonObject.Parse(doc.RootElement, "Config");
            var enableIPv4 = root.Bool("EnableIPv4") ?? true;
            if (root.Bool("EnableIPv6") == true)
                throw new NetworkConfigInvalidException("EnableIPv6 is not supported by FlannelPS yet: remove it or set it to false", json);
            if (!enableIPv4)
                throw new NetworkConfigInvalidException("EnableIPv4 is false: FlannelPS supports IPv4 networks only", json);

            var networkText = root.String("Network");
            Ip4Net network = default;
            var hasNetwork = false;
            if (!string.IsNullOrEmpty(networkText))
            {
                if (!Ip4Net.TryParse(networkText, out network))
                    throw new NetworkConfigInvalidException($"invalid CIDR address: {networkText}", networkText);
                hasNetwork = true;
            }
            var subnetLenValue = root.UInt("SubnetLen") ?? 0;
            var subnetMin = ParseIp(root.String("SubnetMin"));
            var subnetMax = ParseIp(root.String("SubnetMax"));

            var backendType = "udp";
            string? backendJson = null;
            if (root.Raw("Backend") is { } backend)
            {
                backendJson = backend.GetRawText();
                var b = GoJsonObject.Parse(backend, "backend.Config");
                backendType = (b.String("Type") ?? "").ToLowerInvariant();
                if (!KnownBackendTypes.Contains(backendType))
                    throw new NetworkConfigInvalidException($"unknown backend type: {backendType}", backendType);
                b.Int("Port");
                b.Int("VNI");
            }

            if (!hasNetwork)
                throw new NetworkConfigInvalidException("please define a correct Network parameter in the flannel config", json);

            int subnetLen;
            if (subnetLenValue > 0)
            {
                if (subnetLenValue > 30)
                    throw new NetworkConfigInvalidException("SubnetLen must be less than /31", subnetLenValue);
                subnetLen = (int)subnetLenValue;
                if (subnetLen < network.PrefixLength + 2)
                    throw new NetworkConfigInvalidException("network must be able to accommodate at least four subnets", subnetLen);
            }
            else if (network.PrefixLength > 28)
            {
                throw new NetworkConfigInvalidException("network is too small. Minimum useful network prefix is /28", network.ToString());
            }
            else
            {
                subnetLen = network.PrefixLength <= 22 ? 24 : network.PrefixLength + 2;
            }

            var subnetSize = 1L << (32 - subnetLen);
            if (subnetMin == Ip4.Any) subnetMin = network.Address.Add(subnetSize);
            else if (!network.Contains(subnetMin))
                throw new NetworkConfigInvalidException("SubnetMin is not in the range of the Network", subnetMin.ToString());

            if (subnetMax == Ip4.Any) subnetMax = network.Next().Address.Add(-subnetSize);
            else if (!network.Contains(subnetMax))
                throw new NetworkConfigInvalidException("SubnetMax is not in the range of the Network", subnetMax.ToString());

            var mask = Ip4Net.MaskOf(subnetLen);
            if ((subnetMin.Value & mask) != subnetMin.Value)
                throw new NetworkConfigInvalidException($"SubnetMin is not on a SubnetLen boundary: {subnetMin}", subnetMin.ToString());
            if ((subnetMax.Value & mask) != subnetMax.Value)
                throw new NetworkConfigInvalidException($"SubnetMax is not on a SubnetLen boundary: {subnetMax}", subnetMax.ToString());

            return new NetworkConfig
            {
                Network = network,
                SubnetLen = subnetLen,
                SubnetMin = subnetMin,
                SubnetMax = subnetMax,
                BackendType = backendType,
                BackendJson = backendJson,
                RawJson = json,
            };
        }
    }

    private static Ip4 ParseIp(string? text)
    {
        if (string.IsNullOrEmpty(text)) return Ip4.Any;
        return Ip4.TryParse(text, out var ip) ? ip : throw new NetworkConfigInvalidException($"invalid IP address: {text}", text);
    }
}
