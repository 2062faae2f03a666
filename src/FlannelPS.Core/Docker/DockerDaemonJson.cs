// The daemon.json alternative to the drop-in: merge bip/mtu (and ip-masq) into
// /etc/docker/daemon.json, keeping every other key. A sidecar state file records what was set and
// what it replaced, so Uninstall removes exactly FlannelPS's keys and restores earlier values.
using System.Text.Json;
using System.Text.Json.Nodes;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Docker;

/// <summary>The new daemon.json text and the state that undoes it.</summary>
public sealed record DaemonJsonEdit(string Json, string? StateJson, IReadOnlyList<string> KeysSet, IReadOnlyList<string> KeysSkipped);

public static class DockerDaemonJson
{
    public const string DefaultPath = "/etc/docker/daemon.json";

    /// <summary>The sidecar recording FlannelPS's keys: &lt;daemon.json&gt;.flannelps.</summary>
    public static string StatePathFor(string daemonJsonPath) => daemonJsonPath + ".flannelps";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Sets <paramref name="values"/> in <paramref name="existingJson"/> (null: no file).
    /// <paramref name="existingState"/> is the sidecar from an earlier install, whose recorded
    /// previous values are kept so a re-install cannot forget what the user had.</summary>
    public static DaemonJsonEdit Merge(string? existingJson, IReadOnlyDictionary<string, JsonNode> values, string? existingState, string path)
    {
        var doc = ParseObject(existingJson, path);
        var state = ParseState(existingState);
        var set = state["values"]!.AsObject();
        var previous = state["previous"]!.AsObject();
        foreach (var (key, value) in values)
        {
            if (!set.ContainsKey(key) && doc.TryGetPropertyValue(key, out var old) && old is not null)
                previous[key] = old.DeepClone();
            set[key] = value.DeepClone();
            doc[key] = value.DeepClone();
        }
        return new DaemonJsonEdit(Serialize(doc), state.ToJsonString(Indented) + "\n", values.Keys.ToArray(), []);
    }

    /// <summary>Removes the keys the sidecar says FlannelPS set, restoring what they replaced; a key
    /// the user changed since is left alone (reported in KeysSkipped).</summary>
    public static DaemonJsonEdit Remove(string? existingJson, string existingState, string path)
    {
        var doc = ParseObject(existingJson, path);
        var state = ParseState(existingState);
        var previous = state["previous"]!.AsObject();
        var removed = new List<string>();
        var skipped = new List<string>();
        foreach (var (key, value) in state["values"]!.AsObject())
        {
            if (!doc.TryGetPropertyValue(key, out var current) || !JsonNode.DeepEquals(current, value))
            {
                skipped.Add(key);
                continue;
            }
            if (previous.TryGetPropertyValue(key, out var prior) && prior is not null) doc[key] = prior.DeepClone();
            else doc.Remove(key);
            removed.Add(key);
        }
        return new DaemonJsonEdit(Serialize(doc), null, removed, skipped);
    }

    private static string Serialize(JsonObject doc) => doc.ToJsonString(Indented) + "\n";

    private static JsonObject ParseObject(string? json, string path)
    {
        if (string.IsNullOrWhiteSpace(json)) return new JsonObject();
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new JsonException("the top level is not an object");
        }
        catch (JsonException ex)
        {
            throw new FlannelException("FlannelDaemonJsonInvalid", FlannelErrorCategory.InvalidData,
                $"'{path}' is not a JSON object ({ex.Message}). Fix or remove it first; it was left unchanged.", path, ex);
        }
    }

    private static JsonObject ParseState(string? stateJson)
    {
        JsonObject? state = null;
        if (!string.IsNullOrWhiteSpace(stateJson))
        {
            try { state = JsonNode.Parse(stateJson) as JsonObject; }
            catch (JsonException) { state = null; }
        }
        state ??= new JsonObject();
        state["writtenBy"] = "FlannelPS";
        if (state["values"] is not JsonObject) state["values"] = new JsonObject();
        if (state["previous"] is not JsonObject) state["previous"] = new JsonObject();
        return state;
    }
}
