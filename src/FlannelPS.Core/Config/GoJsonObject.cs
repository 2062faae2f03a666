// Reads a JSON object the way Go's encoding/json fills a struct: keys match case-insensitively,
// the last duplicate wins, unknown keys are ignored, and a type mismatch is an error in Go's words.
using System.Text.Json;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Config;

internal sealed class GoJsonObject
{
    private readonly Dictionary<string, JsonElement> _fields = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _goTypeName;

    private GoJsonObject(string goTypeName) => _goTypeName = goTypeName;

    /// <summary>Parses an object; <paramref name="goTypeName"/> names the struct in error texts.</summary>
    public static GoJsonObject Parse(JsonElement element, string goTypeName)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new NetworkConfigInvalidException($"json: cannot unmarshal {GoKind(element)} into Go value of type {goTypeName}");
        var obj = new GoJsonObject(goTypeName);
        foreach (var p in element.EnumerateObject()) obj._fields[p.Name] = p.Value; // last one wins
        return obj;
    }

    public JsonElement? Raw(string name) => _fields.TryGetValue(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name)
    {
        if (!_fields.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw Mismatch(v, name, "string");
        return v.GetString();
    }

    // Go's uint and int are 64 bits wide on the platforms flannel runs on: a number that fits is
    // decoded, and range checks happen afterwards on the whole value, so the callers must compare
    // before narrowing (a cast to int would turn 4294967295 into -1).

    /// <summary>A Go uint field: a non-negative integer up to 2^64-1, else Go's unmarshal error.</summary>
    public ulong? UInt(string name) => Number(name, "uint", static (JsonElement e, out ulong n) => e.TryGetUInt64(out n));

    /// <summary>A Go int field: an integer in the int64 range, else Go's unmarshal error.</summary>
    public long? Int(string name) => Number(name, "int", static (JsonElement e, out long n) => e.TryGetInt64(out n));

    public bool? Bool(string name)
    {
        if (!_fields.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Mismatch(v, name, "bool"),
        };
    }

    private delegate bool TryNumber<T>(JsonElement e, out T n);

    private T? Number<T>(string name, string goType, TryNumber<T> read) where T : struct
    {
        if (!_fields.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Mismatch(v, name, goType);
        if (!read(v, out var n))
            throw new NetworkConfigInvalidException($"json: cannot unmarshal number {v.GetRawText()} into Go struct field {_goTypeName}.{name} of type {goType}");
        return n;
    }

    private Exception Mismatch(JsonElement v, string name, string goType) =>
        new NetworkConfigInvalidException($"json: cannot unmarshal {GoKind(v)} into Go struct field {_goTypeName}.{name} of type {goType}");

    private static string GoKind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        _ => "null",
    };

}
