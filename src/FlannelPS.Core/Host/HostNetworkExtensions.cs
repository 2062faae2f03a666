// Helpers over IHostNetwork.Apply: all-or-error batches with the first failure named.
namespace FlannelPS.Core.Host;

public static class HostNetworkExtensions
{
    /// <summary>Applies the batch and throws for the first change that failed (with every failure counted in the message).</summary>
    public static void ApplyOrThrow(this IHostNetwork host, IReadOnlyList<HostChange> changes, Func<HostChangeResult, bool>? tolerated = null)
    {
        var failed = host.Apply(changes).Where(r => !r.Succeeded && !(tolerated?.Invoke(r) ?? false)).ToList();
        if (failed.Count == 0) return;
        var first = failed[0];
        var more = failed.Count > 1 ? $" (and {failed.Count - 1} more of {changes.Count})" : "";
        throw new HostNetworkException(first.Operation ?? first.Change.Kind.ToString().ToLowerInvariant(), first.Change.Entry + more, first.Errno, first.Error ?? $"errno {first.Errno}");
    }
}
