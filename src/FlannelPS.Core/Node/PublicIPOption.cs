// The one parser for -PublicIP / --public-ip, so every cmdlet and flanneld refuse a bad value with
// the same error id and text.
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Node;

public static class PublicIPOption
{
    public const string InvalidErrorId = "FlannelInvalidPublicIP";

    /// <summary>The address, or null for an unset option; throws FlannelInvalidPublicIP naming the value otherwise.</summary>
    public static Ip4? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (Ip4.TryParse(text, out var ip)) return ip;
        throw new FlannelException(InvalidErrorId, FlannelErrorCategory.InvalidArgument,
            $"-PublicIP '{text}' is not an IPv4 address (e.g. 192.0.2.10).", text);
    }
}
