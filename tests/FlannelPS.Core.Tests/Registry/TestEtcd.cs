// The real etcd the integration tests use (FLANNELPS_TEST_ETCD, started by tests/run.sh inside a
// test namespace), a fresh key prefix per test, and the etcdctl binary to check what a real flannel
// user would see.
using System.Diagnostics;
using System.Text.Json;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Registry;

namespace FlannelPS.Core.Tests.Registry;

public static class TestEtcd
{
    public static string Endpoint =>
        Environment.GetEnvironmentVariable("FLANNELPS_TEST_ETCD") is { Length: > 0 } e
            ? e
            : throw new InvalidOperationException(
                "FLANNELPS_TEST_ETCD is not set: this test needs a real etcd (run tests/run.sh, or start etcd and export FLANNELPS_TEST_ETCD=http://127.0.0.1:PORT).");

    public static EtcdOptions NewOptions(out string prefix, TimeSpan? timeout = null)
    {
        prefix = $"/test/{Guid.NewGuid():N}/network";
        return new EtcdOptions { Endpoints = [Endpoint], Prefix = prefix, RequestTimeout = timeout ?? TimeSpan.FromSeconds(5) };
    }

    /// <summary>A fresh prefix for one test, deleted from etcd when the scope is disposed.</summary>
    public static Scope NewScope(TimeSpan? timeout = null) => new(NewOptions(out var prefix, timeout), prefix);

    public sealed class Scope(EtcdOptions options, string prefix) : IDisposable
    {
        public EtcdOptions Options { get; } = options;
        public string Prefix { get; } = prefix;
        public void Dispose() => DeletePrefix(Prefix);
    }

    public static string Etcdctl(params string[] args)
    {
        var psi = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["ETCDCTL_API"] = "3";
        psi.ArgumentList.Add("--endpoints=" + Endpoint);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(15000)) { p.Kill(); throw new TimeoutException("etcdctl " + string.Join(' ', args)); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"etcdctl {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>The etcd lease id attached to a key (0 = none), as etcdctl reports it.</summary>
    public static long LeaseIdOf(string key)
    {
        using var doc = JsonDocument.Parse(Etcdctl("get", key, "-w", "json"));
        if (!doc.RootElement.TryGetProperty("kvs", out var kvs) || kvs.GetArrayLength() == 0)
            throw new InvalidOperationException($"key {key} is absent");
        return kvs[0].TryGetProperty("lease", out var lease) ? lease.GetInt64() : 0;
    }

    /// <summary>etcdctl lease timetolive --keys output for the lease on a key.</summary>
    public static string TimeToLiveOf(string key) => Etcdctl("lease", "timetolive", "--keys", LeaseIdOf(key).ToString("x"));

    public static void DeletePrefix(string prefix)
    {
        try { Etcdctl("del", "--prefix", prefix + "/"); } catch { /* best effort */ }
    }
}
