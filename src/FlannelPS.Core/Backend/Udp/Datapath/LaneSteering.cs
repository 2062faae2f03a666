// Which lanes carry the traffic: the CPU lanes or the main lane (see LanePlan).
//
// Interactive traffic (a ping, a request and its answer) goes to CPU lanes. A packet wakes the lane
// of the CPU it was queued on, and that lane's thread is pinned there, so the wake-up is local:
// the thread runs as soon as the sender blocks, on a CPU that is awake. A single forwarding thread
// is instead woken wherever it last ran, usually an idle CPU that must first be woken from halt;
// on a VM that is an interrupt through the hypervisor (measured: 35-50 us per wake-up here, several
// per ping). Bulk traffic goes to the main lane: it batches, and it runs beside the sender on another
// CPU, where pinned lanes would queue behind it on the sender's CPU (measured: a third of the
// throughput).
//
// A CPU lane that moves BusyPackets within BusyWindowMs switches to the main lane (by rate, not by
// packets per wake-up: a pinned lane woken on the sender's CPU may preempt the sender and take each
// packet alone); the main lane switches back after QuietWindowMs with fewer than QuietPackets
// (a lower rate, so the two do not flap). A switch replaces the two steering programs (a few us,
// off any packet's path); packets already queued on the other lanes are still forwarded, so a
// switch can reorder a few packets of a flow, never lose them.
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Interop;

namespace FlannelPS.Core.Backend.Udp.Datapath;

internal sealed class LaneSteering : IDisposable
{
    public const int BusyPackets = 64, BusyWindowMs = 10;      // 6400 packets/s
    public const int QuietPackets = 100, QuietWindowMs = 50;   // 2000 packets/s

    private readonly CpuSteeringPrograms _programs;
    private readonly TunDevice _tun;
    private readonly UdpEndpoint _udp;
    private readonly ILog _log;
    private readonly Lock _gate = new();
    private volatile bool _cpuLanes;
    private volatile bool _frozen;
    private long _switches;
    // Main lane's window; written by the main lane, reset by a switch to it.
    private long _windowStart;
    private long _windowPackets;

    /// <summary>
    /// Attaches the CPU-lane programs to the TUN and the socket group (through one member of each);
    /// <see cref="SteeringUnavailableException"/> when the kernel refuses either.
    /// </summary>
    public LaneSteering(CpuSteeringPrograms programs, TunDevice anyQueue, UdpEndpoint anySocket, ILog log)
    {
        _programs = programs;
        _tun = anyQueue;
        _udp = anySocket;
        _log = log;
        try
        {
            _tun.SetSteeringProgram(_programs.ToCpuLaneFd);
            _udp.SetReusePortProgram(_programs.ToCpuLaneFd);
        }
        catch (IOException e)
        {
            throw new SteeringUnavailableException(e);
        }
        _cpuLanes = true;
    }

    /// <summary>True while traffic goes to the CPU lanes; false while to the main lane.</summary>
    public bool CpuLanesActive => _cpuLanes;

    /// <summary>Switches so far, either way.</summary>
    public long Switches => Volatile.Read(ref _switches);

    /// <summary>The main lane's wait limit: bounded while it carries the traffic, so a quiet window is noticed.</summary>
    public int MainLaneTimeoutMs => _cpuLanes ? -1 : QuietWindowMs;

    /// <summary>One CPU lane's count of recent packets; owned by that lane's thread.</summary>
    public struct LaneWindow
    {
        internal long Start, Packets;
    }

    /// <summary>A CPU lane moved <paramref name="packets"/> since its last wait.</summary>
    public void CpuLaneDrained(ref LaneWindow window, int packets)
    {
        if (packets == 0 || !_cpuLanes) return;
        long now = Environment.TickCount64;
        if (now - window.Start >= BusyWindowMs) { window.Start = now; window.Packets = 0; }
        window.Packets += packets;
        if (window.Packets >= BusyPackets)
        {
            window.Packets = 0;
            SwitchTo(cpuLanes: false);
        }
    }

    /// <summary>The main lane moved <paramref name="packets"/> since its last wait (0 after a timeout).</summary>
    public void MainLaneDrained(int packets)
    {
        _windowPackets += packets;
        long now = Environment.TickCount64;
        if (now - Volatile.Read(ref _windowStart) < QuietWindowMs) return;
        if (!_cpuLanes && _windowPackets < QuietPackets) SwitchTo(cpuLanes: true);
        Volatile.Write(ref _windowStart, now);
        _windowPackets = 0;
    }

    private void SwitchTo(bool cpuLanes)
    {
        if (_frozen) return;
        lock (_gate)
        {
            if (_cpuLanes == cpuLanes || _frozen) return;
            int fd = cpuLanes ? _programs.ToCpuLaneFd : _programs.ToMainLaneFd;
            try
            {
                _tun.SetSteeringProgram(fd);
                _udp.SetReusePortProgram(fd);
            }
            catch (IOException e)
            {
                // Every lane forwards whatever reaches it, so traffic still flows; it just stays where it is.
                _frozen = true;
                _log.Warning($"udp datapath: lane steering stopped switching: {e.Message}");
                return;
            }
            if (!cpuLanes)
            {
                Volatile.Write(ref _windowStart, Environment.TickCount64);
                _windowPackets = 0;
            }
            _cpuLanes = cpuLanes;
            Interlocked.Increment(ref _switches);
        }
    }

    public void Dispose() => _programs.Dispose();
}
