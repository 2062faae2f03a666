// A throw-away etcd for tests that must change server-wide settings (TLS, auth) and so cannot use
// the shared FLANNELPS_TEST_ETCD. Loopback only, free ports, temp data dir; killed and removed on dispose.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FlannelPS.Core.Tests.Registry;

public sealed class PrivateEtcd : IDisposable
{
    private readonly Process _process;
    public string Dir { get; }
    public string ClientUrl { get; }

    private PrivateEtcd(Process process, string dir, string clientUrl)
    {
        _process = process;
        Dir = dir;
        ClientUrl = clientUrl;
    }

    /// <summary>Starts etcd; <paramref name="tls"/> gives (cert, key, ca) PEM paths for https with client-cert auth; <paramref name="extra"/> more flags.</summary>
    public static PrivateEtcd Start(string dir, (string Cert, string Key, string Ca)? tls = null, params string[] extra)
    {
        // Fail like the other integration tests when the suite has no etcd environment at all.
        _ = TestEtcd.Endpoint;
        var clientPort = FreePort();
        var peerPort = FreePort();
        var scheme = tls is null ? "http" : "https";
        var clientUrl = $"{scheme}://127.0.0.1:{clientPort}";
        var psi = new ProcessStartInfo("etcd") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            "--name", "priv", "--data-dir", Path.Combine(dir, "data"),
            "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"priv=http://127.0.0.1:{peerPort}",
        }) psi.ArgumentList.Add(a);
        if (tls is { } t)
            foreach (var a in new[] { "--cert-file", t.Cert, "--key-file", t.Key, "--trusted-ca-file", t.Ca, "--client-cert-auth" })
                psi.ArgumentList.Add(a);
        foreach (var a in extra) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var etcd = new PrivateEtcd(p, dir, clientUrl);
        var sw = Stopwatch.StartNew();
        while (!CanConnect(clientPort))
        {
            if (p.HasExited || sw.Elapsed > TimeSpan.FromSeconds(15)) { etcd.Dispose(); throw new InvalidOperationException("private etcd did not start"); }
            Thread.Sleep(50);
        }
        Thread.Sleep(300); // let it elect itself leader
        return etcd;
    }

    public string Etcdctl(params string[] args)
    {
        var psi = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["ETCDCTL_API"] = "3";
        psi.ArgumentList.Add("--endpoints=" + ClientUrl);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(15000)) { p.Kill(); throw new TimeoutException("etcdctl"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"etcdctl {string.Join(' ', args)}: {stderr.Result}");
        return stdout.Result;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(5000); } } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }

    private static bool CanConnect(int port)
    {
        try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, port); return true; }
        catch (SocketException) { return false; }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
