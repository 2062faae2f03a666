// A 48-bit Ethernet address, as vxlan advertises it in a lease (BackendData.VtepMAC, "c6:d2:32:6f:8f:44").
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FlannelPS.Core.Net;

public readonly record struct MacAddress(ulong Value)
{
    public static MacAddress FromBytes(ReadOnlySpan<byte> six)
    {
        if (six.Length != 6) throw new ArgumentException($"a MAC address has 6 bytes, not {six.Length}", nameof(six));
        ulong v = 0;
        foreach (var b in six) v = (v << 8) | b;
        return new MacAddress(v);
    }

    public void WriteTo(Span<byte> six)
    {
        for (int i = 0; i < 6; i++) six[i] = (byte)(Value >> (8 * (5 - i)));
    }

    /// <summary>Locally administered (bit 1 of the first octet) and unicast (bit 0 clear): what flannel generates.</summary>
    public bool IsLocallyAdministeredUnicast => ((Value >> 40) & 0x03) == 0x02;

    /// <summary>A random locally administered unicast address, as flannel HEAD gives a new vxlan device.</summary>
    public static MacAddress NewRandomLocal(Random random)
    {
        Span<byte> b = stackalloc byte[6];
        random.NextBytes(b);
        b[0] = (byte)((b[0] & 0xFE) | 0x02);
        return FromBytes(b);
    }

    /// <summary>Six hex pairs separated by ':' (or '-'), either case.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out MacAddress mac)
    {
        mac = default;
        if (text is null || text.Length != 17) return false;
        ulong v = 0;
        for (int i = 0; i < 6; i++)
        {
            if (i > 0 && text[i * 3 - 1] is not (':' or '-')) return false;
            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b)) return false;
            v = (v << 8) | b;
        }
        mac = new MacAddress(v);
        return true;
    }

    public static MacAddress Parse(string text) =>
        TryParse(text, out var mac) ? mac : throw new FormatException($"'{text}' is not a MAC address (expected six hex pairs like c6:d2:32:6f:8f:44).");

    /// <summary>Lower-case, colon-separated, as Go's net.HardwareAddr prints it.</summary>
    public override string ToString()
    {
        Span<byte> b = stackalloc byte[6];
        WriteTo(b);
        return string.Create(CultureInfo.InvariantCulture, $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}");
    }
}
