// Turns Core's typed exceptions into ErrorRecords with stable ids and PowerShell categories.
using System.Management.Automation;
using FlannelPS.Core.Errors;

namespace FlannelPS.Infrastructure;

internal static class ErrorMapper
{
    public static ErrorRecord ToErrorRecord(FlannelException ex) =>
        new(ex, ex.ErrorId, Map(ex.Category), ex.Target);

    public static ErrorRecord ToErrorRecord(Exception ex, string errorId, ErrorCategory category, object? target) =>
        ex is FlannelException fe ? ToErrorRecord(fe) : new ErrorRecord(ex, errorId, category, target);

    private static ErrorCategory Map(FlannelErrorCategory category) => category switch
    {
        FlannelErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
        FlannelErrorCategory.InvalidData => ErrorCategory.InvalidData,
        FlannelErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
        FlannelErrorCategory.ConnectionError => ErrorCategory.ConnectionError,
        FlannelErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        FlannelErrorCategory.ResourceExists => ErrorCategory.ResourceExists,
        FlannelErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
        FlannelErrorCategory.OperationTimeout => ErrorCategory.OperationTimeout,
        FlannelErrorCategory.NotImplemented => ErrorCategory.NotImplemented,
        _ => ErrorCategory.InvalidOperation,
    };
}
