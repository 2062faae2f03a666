// JSON text pieces written with Utf8JsonWriter rather than the reflection-based serializer, so the
// compiled (NativeAOT, trimmed) flanneld writes byte for byte what the module writes.
using System.Buffers;
using System.Text;
using System.Text.Json;

namespace FlannelPS.Core.Config;

public static class JsonText
{
    /// <summary>A JSON string literal, escaped as System.Text.Json's default encoder does.</summary>
    public static string Quote(string value) => Write(w => w.WriteStringValue(value));

    /// <summary>The JSON document <paramref name="json"/> without insignificant whitespace.</summary>
    public static string Compact(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Write(w => doc.RootElement.WriteTo(w));
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
