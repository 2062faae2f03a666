// The datapath loop's wait (epoll): it must report exactly the fds that are readable, keep reporting
// one that still holds data (level-triggered, as the loop relies on after a partial read), and time
// out when nothing is ready. Pipes stand in for the TUN and the socket: no network is involved.
using FlannelPS.Core.Interop;
using Tmds.Linux;

namespace FlannelPS.Core.Tests.Interop;

public sealed unsafe class ReadinessTests
{
    private sealed class Pipe : IDisposable
    {
        public readonly int Read, Write;

        public Pipe()
        {
            int* fds = stackalloc int[2];
            Assert.Equal(0, LibC.pipe2(fds, LibC.O_CLOEXEC | LibC.O_NONBLOCK));
            Read = fds[0];
            Write = fds[1];
        }

        public void Put(byte b) => Assert.Equal(1, (long)LibC.write(Write, &b, 1));

        public int Take()
        {
            byte b;
            return (int)(long)LibC.read(Read, &b, 1);
        }

        public void Dispose()
        {
            LibC.close(Read);
            LibC.close(Write);
        }
    }

    [Fact]
    public void Wait_reports_the_readable_fds_by_their_flags_and_nothing_else()
    {
        using var a = new Pipe();
        using var b = new Pipe();
        using var r = new Readiness();
        r.Add(a.Read, 1);
        r.Add(b.Read, 4);

        Assert.Equal(0, r.Wait(0));
        a.Put(7);
        Assert.Equal(1, r.Wait(0));
        b.Put(7);
        Assert.Equal(1 | 4, r.Wait(0));
    }

    [Fact]
    public void An_fd_that_still_holds_data_is_reported_again()
    {
        using var a = new Pipe();
        using var r = new Readiness();
        r.Add(a.Read, 2);
        a.Put(1);
        a.Put(2);

        Assert.Equal(2, r.Wait(0));
        Assert.Equal(1, a.Take());
        Assert.Equal(2, r.Wait(0)); // one byte left: level-triggered, still ready
        Assert.Equal(1, a.Take());
        Assert.Equal(0, r.Wait(0));
    }

    [Fact]
    public void A_blocked_wait_returns_when_data_arrives_and_times_out_when_none_does()
    {
        using var a = new Pipe();
        using var r = new Readiness();
        r.Add(a.Read, 8);

        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, r.Wait(50));
        Assert.InRange(sw.ElapsedMilliseconds, 40, 5_000);

        var writer = new Thread(() => { Thread.Sleep(50); a.Put(9); });
        writer.Start();
        Assert.Equal(8, r.Wait(10_000));
        Assert.True(writer.Join(10_000));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-1)]
    public void A_flag_must_be_one_bit(int flag)
    {
        using var a = new Pipe();
        using var r = new Readiness();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => r.Add(a.Read, flag));
        Assert.Contains("single bit", ex.Message);
    }

    [Fact]
    public void Adding_a_closed_fd_names_the_call_and_the_fd()
    {
        using var r = new Readiness();
        var ex = Assert.Throws<IOException>(() => r.Add(987_654, 1));
        Assert.Contains("epoll_ctl(ADD, fd 987654)", ex.Message);
        Assert.Contains("(errno 9)", ex.Message); // EBADF
    }
}
