// The value stored at <prefix>/subnets/<key>: flannel's LeaseAttrs, written as compact JSON in
// Go field order so real flanneld nodes (and etcdctl users) read exactly what they expect.
using System.Text;
using System.Text.Json;
using FlannelPS.Core.Config;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Subnet;

public sealed record LeaseAttrs(Ip4 PublicIP, string? BackendType = null, string? BackendData = null)
{
    /// <summary>HEAD form: {"PublicIP":"…","PublicIPv6":null[,"BackendType":"…"][,"BackendData":{…}]}.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder(96);
        sb.Append("{\"PublicIP\":\"").Append(PublicIP.ToString()).Append("\",\"PublicIPv6\":null");
        if (!string.IsNullOrEmpty(BackendType))
            sb.Append(",\"BackendType\":").Append(JsonText.Quote(BackendType));
        if (!string.IsNullOrEmpty(BackendData))
            sb.Append(",\"BackendData\":").Append(JsonText.Compact(BackendData));
        sb.Append('}');
        return sb.ToString();
    }

    /// <summary>Reads a lease value as Go would (keys case-insensitive); null when it is not a usable lease.</summary>
    public static LeaseAttrs? TryParse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            string? ip = null, type = null, data = null;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.NameEquals("PublicIP") || p.Name.Equals("PublicIP", StringComparison.OrdinalIgnoreCase))
                    ip = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                else if (p.Name.Equals("BackendType", StringComparison.OrdinalIgnoreCase))
                    type = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                else if (p.Name.Equals("BackendData", StringComparison.OrdinalIgnoreCase))
                    data = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetRawText();
            }
            return Ip4.TryParse(ip, out var publicIp) ? new LeaseAttrs(publicIp, string.IsNullOrEmpty(type) ? null : type, data) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
