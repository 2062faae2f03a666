// A dedicated thread that has entered a namespace with setns(CLONE_NEWNET). Work posted to it runs
// there, so fds it opens (TUN, sockets) and processes it forks belong to that namespace.
using System.Collections.Concurrent;
using System.Text;
using Tmds.Linux;

namespace FlannelPS.Core.Tests.Interop;

internal sealed class NetnsThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NetnsThread(string namespaceName)
    {
        _thread = new Thread(() => Loop(namespaceName)) { IsBackground = true, Name = "netns " + namespaceName };
        _thread.Start();
        if (!_entered.Task.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException("setns thread did not start");
        _entered.Task.GetAwaiter().GetResult();
    }

    private unsafe void Loop(string ns)
    {
        try
        {
            var path = Encoding.ASCII.GetBytes($"/run/netns/{ns}\0");
            int fd;
            fixed (byte* p = path) fd = LibC.open(p, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
            if (fd < 0) throw new IOException($"open /run/netns/{ns}: errno {LibC.errno}");
            var rc = LibC.setns(fd, LibC.CLONE_NEWNET);
            var err = LibC.errno;
            LibC.close(fd);
            if (rc != 0) throw new IOException($"setns {ns}: errno {err}");
            _entered.TrySetResult();
        }
        catch (Exception ex)
        {
            _entered.TrySetException(ex);
            return;
        }
        foreach (var a in _work.GetConsumingEnumerable()) a();
    }

    public T Invoke<T>(Func<T> f, int timeoutMs = 30_000)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() => { try { tcs.SetResult(f()); } catch (Exception ex) { tcs.SetException(ex); } });
        if (!((IAsyncResult)tcs.Task).AsyncWaitHandle.WaitOne(timeoutMs)) throw new TimeoutException("work on the namespace thread timed out");
        return tcs.Task.GetAwaiter().GetResult(); // rethrows the original exception, not an AggregateException
    }

    public void Invoke(Action a, int timeoutMs = 30_000) => Invoke(() => { a(); return 0; }, timeoutMs);

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
