// Runs work on a dedicated thread that has entered a named network namespace (/run/netns/NAME, as
// `ip netns add` makes them), so netlink sockets it opens act there; the thread ends with the work.
// For harnesses that drive a namespace from outside it; a process already inside one needs none.
using System.Runtime.ExceptionServices;
using System.Text;
using Tmds.Linux;

namespace FlannelPS.Core.Interop;

internal static unsafe class NetworkNamespace
{
    public static T Run<T>(string name, Func<T> work)
    {
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
            throw new ArgumentException($"'{name}' is not a network namespace name", nameof(name));
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(name);
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }) { IsBackground = true, Name = "netns " + name };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    private static void Enter(string name)
    {
        var path = Encoding.UTF8.GetBytes($"/run/netns/{name}\0");
        int fd;
        fixed (byte* p = path) fd = LibC.open(p, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0) throw Errno.Exception($"open(/run/netns/{name})", Errno.Last);
        using var handle = new FdHandle(fd);
        if (LibC.setns(fd, LibC.CLONE_NEWNET) != 0) throw Errno.Exception($"setns({name}, CLONE_NEWNET)", Errno.Last);
    }
}
