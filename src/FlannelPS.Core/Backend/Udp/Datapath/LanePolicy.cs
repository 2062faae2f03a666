// When traffic should move between the CPU lanes and the main lane (see LaneSteering for why): the
// decision alone, on a clock it is given, so it can be tested without root, BPF, two CPUs or time
// passing. A CPU lane that moves BusyPackets within BusyWindowMs asks for the main lane; the main
// lane, while it carries the traffic, asks for the CPU lanes after a QuietWindowMs with fewer than
// QuietPackets (a lower rate, so the two do not flap). LaneSteering carries the decisions out.
namespace FlannelPS.Core.Backend.Udp.Datapath;

internal sealed class LanePolicy(Func<long> nowMs)
{
    public const int BusyPackets = 64, BusyWindowMs = 10;      // 6400 packets/s
    public const int QuietPackets = 100, QuietWindowMs = 50;   // 2000 packets/s

    private readonly Func<long> _nowMs = nowMs;
    private volatile bool _cpuLanes = true;
    // Main lane's window; written by the main lane, reset by a switch to it.
    private long _windowStart;
    private long _windowPackets;

    /// <summary>The system's monotonic milliseconds.</summary>
    public static LanePolicy WithSystemClock() => new(() => Environment.TickCount64);

    /// <summary>True while traffic goes to the CPU lanes; false while to the main lane.</summary>
    public bool CpuLanesActive => _cpuLanes;

    /// <summary>The main lane's wait limit: bounded while it carries the traffic, so a quiet window is noticed.</summary>
    public int MainLaneTimeoutMs => _cpuLanes ? -1 : QuietWindowMs;

    /// <summary>One CPU lane's count of recent packets; owned by that lane's thread.</summary>
    public struct LaneWindow
    {
        internal long Start, Packets;
    }

    /// <summary>A CPU lane moved <paramref name="packets"/> since its last wait; true: traffic should go to the main lane.</summary>
    public bool CpuLaneDrained(ref LaneWindow window, int packets)
    {
        if (packets == 0 || !_cpuLanes) return false;
        long now = _nowMs();
        if (now - window.Start >= BusyWindowMs) { window.Start = now; window.Packets = 0; }
        window.Packets += packets;
        if (window.Packets < BusyPackets) return false;
        window.Packets = 0;
        return true;
    }

    /// <summary>The main lane moved <paramref name="packets"/> since its last wait (0 after a timeout); true: traffic should go back to the CPU lanes.</summary>
    public bool MainLaneDrained(int packets)
    {
        _windowPackets += packets;
        long now = _nowMs();
        if (now - Volatile.Read(ref _windowStart) < QuietWindowMs) return false;
        bool back = !_cpuLanes && _windowPackets < QuietPackets;
        Volatile.Write(ref _windowStart, now);
        _windowPackets = 0;
        return back;
    }

    /// <summary>The switch was made: traffic now goes to the CPU lanes (true) or the main lane, whose window starts now.</summary>
    public void Switched(bool cpuLanes)
    {
        if (!cpuLanes)
        {
            Volatile.Write(ref _windowStart, _nowMs());
            _windowPackets = 0;
        }
        _cpuLanes = cpuLanes;
    }
}
