// One change in a batch for IHostNetwork.Apply, and its outcome. A batch goes to the kernel as one
// message train and is answered with one acknowledgement per change, so hundreds of peers cost one
// round trip, not one process each.
namespace FlannelPS.Core.Host;

public enum HostChangeKind
{
    /// <summary>Create; fails with EEXIST when an entry with the same key exists.</summary>
    Add,
    /// <summary>Create or overwrite (NLM_F_CREATE|NLM_F_REPLACE), e.g. a route to the same destination through another gateway.</summary>
    Replace,
    /// <summary>Remove; fails with ENOENT (or ESRCH for routes) when absent.</summary>
    Delete,
}

public sealed record HostChange(HostChangeKind Kind, HostEntry Entry)
{
    public static HostChange Add(HostEntry e) => new(HostChangeKind.Add, e);
    public static HostChange Replace(HostEntry e) => new(HostChangeKind.Replace, e);
    public static HostChange Delete(HostEntry e) => new(HostChangeKind.Delete, e);

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Entry}";
}

/// <param name="Errno">0 on success, else the kernel's errno for this change.</param>
/// <param name="Error">The errno's name and text ("EEXIST (File exists)"), null on success.</param>
public sealed record HostChangeResult(HostChange Change, int Errno, string? Error = null)
{
    /// <summary>The request the change went as ("RTM_NEWROUTE"), when the implementation knows it; errors name it.</summary>
    public string? Operation { get; init; }

    public bool Succeeded => Errno == 0;

    /// <summary>Absent already (ENOENT, ESRCH): what a delete of something gone reports.</summary>
    public bool IsNotFound => Errno is Interop.Errno.ENOENT or Interop.Errno.ESRCH;

    /// <summary>EEXIST: what an Add of something present reports.</summary>
    public bool IsExists => Errno == Interop.Errno.EEXIST;
}
