// A network namespace owned by one test: named fpdp-<run id>-<suffix>, removed (with any process
// left in it) on Dispose, even when the test failed.
namespace FlannelPS.Core.Tests.Interop;

internal sealed class TestNamespace : IDisposable
{
    public static string RunId => Environment.GetEnvironmentVariable("FLANNELPS_TEST_RUNID") is { Length: > 0 } id ? id : Environment.ProcessId.ToString();

    public TestNamespace(string suffix)
    {
        Name = $"fpdp-{RunId}-{suffix}";
        Sh.Ip("netns", "del", Name); // a leftover from a crashed run with the same id
        Sh.Ip("netns", "add", Name).Ok($"ip netns add {Name}");
        Sh.Ip("-n", Name, "link", "set", "lo", "up").Ok("lo up");
    }

    public string Name { get; }

    public Sh.Result Exec(params string[] args) => Sh.Run("ip", ["netns", "exec", Name, .. args]);

    public Sh.Result Exec(int timeoutMs, params string[] args) => Sh.Run("ip", ["netns", "exec", Name, .. args], timeoutMs);

    public Sh.Result Ip(params string[] args) => Sh.Run("ip", ["-n", Name, .. args]);

    public void Dispose()
    {
        var pids = Sh.Ip("netns", "pids", Name).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var pid in pids)
            if (int.TryParse(pid, out var n)) try { System.Diagnostics.Process.GetProcessById(n).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        Sh.Ip("netns", "del", Name);
    }
}
