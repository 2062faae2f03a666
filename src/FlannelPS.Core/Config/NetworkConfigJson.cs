// Renders a network config from parameters, in flannel's field names and order.
using System.Text;
using System.Text.Json;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Config;

public static class NetworkConfigJson
{
    public static string Build(Ip4Net network, int? subnetLen = null, Ip4? subnetMin = null, Ip4? subnetMax = null,
        string? backendType = null, int? backendPort = null, int? vni = null, bool? directRouting = null)
    {
        var sb = new StringBuilder();
        sb.Append("{\"Network\":\"").Append(network.ToString()).Append('"');
        if (subnetLen is { } len) sb.Append(",\"SubnetLen\":").Append(len);
        if (subnetMin is { } min) sb.Append(",\"SubnetMin\":\"").Append(min.ToString()).Append('"');
        if (subnetMax is { } max) sb.Append(",\"SubnetMax\":\"").Append(max.ToString()).Append('"');
        if (backendType is not null || backendPort is not null || vni is not null || directRouting is not null)
        {
            sb.Append(",\"Backend\":{\"Type\":").Append(JsonText.Quote(backendType ?? "udp"));
            if (backendPort is { } port) sb.Append(",\"Port\":").Append(port);
            if (vni is { } v) sb.Append(",\"VNI\":").Append(v);
            if (directRouting is { } d) sb.Append(",\"DirectRouting\":").Append(d ? "true" : "false");
            sb.Append('}');
        }
        return sb.Append('}').ToString();
    }
}
