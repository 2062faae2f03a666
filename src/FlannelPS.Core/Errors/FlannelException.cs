// Every failure Core reports to a user is a FlannelException: a stable ErrorId, a category the
// cmdlet layer maps to PowerShell's ErrorCategory, the offending value, and a message that says
// what was wrong and what to do.
namespace FlannelPS.Core.Errors;

public enum FlannelErrorCategory
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    ConnectionError,
    ResourceUnavailable,
    ResourceExists,
    PermissionDenied,
    OperationTimeout,
    NotImplemented,
    InvalidOperation,
}

public class FlannelException : Exception
{
    public FlannelException(string errorId, FlannelErrorCategory category, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
        Target = target;
    }

    /// <summary>Stable identifier, e.g. FlannelNetworkConfigNotFound; scripts may match on it.</summary>
    public string ErrorId { get; }
    public FlannelErrorCategory Category { get; }
    /// <summary>The value the error is about (a key, a path, an endpoint list).</summary>
    public object? Target { get; }
}

/// <summary>The network config failed flannel's validation; Message is flannel's exact text.</summary>
public sealed class NetworkConfigInvalidException(string message, object? target = null, Exception? inner = null)
    : FlannelException("FlannelNetworkConfigInvalid", FlannelErrorCategory.InvalidData, message, target, inner);

/// <summary>No config at &lt;prefix&gt;/config. Message is flannel's (HEAD) text.</summary>
public sealed class NetworkConfigNotFoundException(string key)
    : FlannelException("FlannelNetworkConfigNotFound", FlannelErrorCategory.ObjectNotFound, Text, key)
{
    public const string Text = "flannel config not found in etcd store. Did you create your config using etcdv3 API?";
}

/// <summary>etcd could not be reached, or did not answer within the bounded time.</summary>
public sealed class EtcdUnavailableException(string endpoints, string detail, Exception? inner = null)
    : FlannelException("FlannelEtcdUnavailable", FlannelErrorCategory.ConnectionError,
        $"etcd at {endpoints} is unavailable: {detail}. Check -EtcdEndpoint (or FLANNELD_ETCD_ENDPOINTS) and that etcd is running.",
        endpoints, inner);

public sealed class OutOfSubnetsException(string range)
    : FlannelException("FlannelOutOfSubnets", FlannelErrorCategory.ResourceUnavailable, "out of subnets", range);
