// tcpdump -w inside a namespace, started and confirmed listening before traffic is sent; bounded
// by packet count and time (test helper).
using System.Diagnostics;

namespace FlannelPS.Core.Tests.Interop;

internal sealed class Capture : IDisposable
{
    private readonly Process _p;
    public string File { get; }

    public Capture(string ns, string iface, string filter, int count)
    {
        File = Path.Combine(Path.GetTempPath(), $"fpdp-{Guid.NewGuid():N}.pcap");
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns, "timeout", "15", "tcpdump", "-n", "-U", "-i", iface, "-c", count.ToString(), "-w", File }) psi.ArgumentList.Add(a);
        foreach (var a in filter.Split(' ')) psi.ArgumentList.Add(a);
        _p = Process.Start(psi)!;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _p.ErrorDataReceived += (_, e) => { if (e.Data?.Contains("listening on") == true) listening.TrySetResult(); };
        _p.BeginErrorReadLine();
        if (!listening.Task.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException("tcpdump did not start listening");
    }

    /// <summary>Waits until tcpdump has its packets (or the time is up) and returns them.</summary>
    public (int LinkType, List<byte[]> Packets) Finish(int timeoutMs = 5000)
    {
        if (!_p.WaitForExit(timeoutMs)) { try { _p.Kill(); } catch (InvalidOperationException) { } _p.WaitForExit(3000); }
        return Pcap.Read(File);
    }

    public void Dispose()
    {
        if (!_p.HasExited) { try { _p.Kill(); } catch (InvalidOperationException) { } _p.WaitForExit(3000); }
        _p.Dispose();
        try { System.IO.File.Delete(File); } catch (IOException) { }
    }

    /// <summary>A long-running command in a namespace (e.g. an iperf3 server), killed on Dispose.</summary>
    public sealed class Background : IDisposable
    {
        private readonly Process _p;

        public Background(string ns, string[] command)
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "netns", "exec", ns, "timeout", "30" }.Concat(command)) psi.ArgumentList.Add(a);
            _p = Process.Start(psi)!;
            _p.BeginErrorReadLine();
            _p.BeginOutputReadLine();
        }

        public void Dispose()
        {
            if (!_p.HasExited) { try { _p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } _p.WaitForExit(3000); }
            _p.Dispose();
        }
    }
}
