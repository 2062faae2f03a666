// etcd keys built from the prefix the way flanneld builds them, with Go's path.Join: duplicate and
// trailing slashes go, "." and ".." are resolved, and a prefix without a leading slash stays
// without one ("coreos.com/network" gives the key "coreos.com/network/config", which etcd v3 holds
// apart from "/coreos.com/network/config").
namespace FlannelPS.Core.Registry;

public static class EtcdKeyPath
{
    /// <summary>Go's path.Clean: the shortest path with the same lexical meaning; "." for an empty one.</summary>
    public static string Clean(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var rooted = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
                else if (!rooted) parts.Add(part); // a relative path may climb; a rooted one stops at "/"
                continue;
            }
            parts.Add(part);
        }
        var joined = string.Join('/', parts);
        if (rooted) return "/" + joined;
        return joined.Length == 0 ? "." : joined;
    }

    /// <summary>Go's path.Join: the non-empty elements joined with "/" and cleaned; "" when all are empty.</summary>
    public static string Join(params ReadOnlySpan<string> elements)
    {
        var nonEmpty = new List<string>(elements.Length);
        foreach (var e in elements)
            if (!string.IsNullOrEmpty(e)) nonEmpty.Add(e);
        return nonEmpty.Count == 0 ? "" : Clean(string.Join('/', nonEmpty));
    }
}
