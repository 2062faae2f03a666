// A tolerant reader for KEY=VALUE files (subnet.env, docker_opts.env), close to what flannel's
// godotenv accepts: comments, blank lines, `export `, `:` separators, single/double quotes.
// Variable expansion is not done: flannel's own files never contain `$`.
using System.Text;

namespace FlannelPS.Core.Files;

public static class EnvFile
{
    /// <summary>Parses <paramref name="text"/>; later duplicates win; malformed lines are skipped.</summary>
    public static IReadOnlyDictionary<string, string> Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.StartsWith("export ", StringComparison.Ordinal)) line = line[7..].TrimStart();
            var sep = line.IndexOfAny(['=', ':']);
            if (sep <= 0) continue;
            var key = line[..sep].Trim();
            if (!IsValidKey(key)) continue;
            values[key] = ParseValue(line[(sep + 1)..].TrimStart());
        }
        return values;
    }

    /// <summary>Reads and parses <paramref name="path"/>; null when the file does not exist.</summary>
    public static IReadOnlyDictionary<string, string>? Read(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path)) : null;

    private static bool IsValidKey(string key)
    {
        if (key.Length == 0 || char.IsAsciiDigit(key[0])) return false;
        foreach (var c in key)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        return true;
    }

    private static string ParseValue(string value)
    {
        if (value.Length == 0) return "";
        if (value[0] == '\'')
        {
            var end = value.IndexOf('\'', 1);
            return end < 0 ? value[1..] : value[1..end];
        }
        if (value[0] == '"') return ParseDoubleQuoted(value);
        // Unquoted: an inline comment starts at whitespace followed by '#'.
        for (var i = 1; i < value.Length; i++)
            if (value[i] == '#' && char.IsWhiteSpace(value[i - 1])) { value = value[..i]; break; }
        return value.TrimEnd();
    }

    private static string ParseDoubleQuoted(string value)
    {
        var sb = new StringBuilder(value.Length);
        for (var i = 1; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '"') break;
            if (c == '\\' && i + 1 < value.Length)
            {
                var n = value[++i];
                sb.Append(n switch { 'n' => '\n', 'r' => '\r', 't' => '\t', _ => n });
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
