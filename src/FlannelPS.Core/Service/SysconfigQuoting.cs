// How the /etc/sysconfig/flanneld-style file carries any value but a control character. Two
// readers take it apart, and they agree (tests/pester/Service.Tests.ps1 checks systemd itself, in a
// container): systemd's EnvironmentFile= and sh's `.` read a "..." value with sh's double-quote
// rules; then systemd's ExecStart= expansion of $FLANNEL_OPTIONS, or the manual start's
// `eval "set -- $FLANNEL_OPTIONS"`, splits that value into words the way sh splits a command line.
using System.Text;

namespace FlannelPS.Core.Service;

internal static class SysconfigQuoting
{
    // Characters that mean something when a command line is split (to systemd: \ and quotes; to eval
    // also ; | & ( ) < > ` $, the glob characters, # and ~ at a word's start, and the space).
    private const string SplitSpecial = "\\'\"$`;&|<>()*?[]{}#~! ";

    /// <summary>A value in double quotes, with \ " $ ` escaped: read back as itself by sh and by systemd.</summary>
    public static string Value(string value) => '"' + Escape(value, "\\\"$`") + '"';

    /// <summary>FLANNEL_OPTIONS: each word escaped for the split, then the whole for the double quotes,
    /// so that -iface-regex=^eth1$ is written "-iface-regex=^eth1\\\$" and reaches flanneld as typed.</summary>
    public static string Options(IEnumerable<string> words) =>
        Value(string.Join(' ', words.Select(w => Escape(w, SplitSpecial))));

    // A backslash before every character of the text that is in the special set.
    private static string Escape(string text, string special)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (special.Contains(c, StringComparison.Ordinal)) sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
