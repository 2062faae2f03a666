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
// LanePolicy decides when to switch (by rate, not by packets per wake-up: a pinned lane woken on
// the sender's CPU may preempt the sender and take each packet alone); this class makes the switch.
// A switch replaces the two steering programs (a few us,
// off any packet's path); packets already queued on the other lanes are still forwarded, so a
// switch can reorder a few packets of a flow, never lose them.
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Interop;

namespace FlannelPS.Core.Backend.Udp.Datapath;

internal sealed class LaneSteering : IDisposable
{
    private readonly CpuSteeringPrograms _programs;
    private readonly TunDevice _tun;
    private readonly UdpEndpoint _udp;
    private readonly ILog _log;
    private readonly Lock _gate = new();
    private readonly LanePolicy _policy;
    private volatile bool _frozen;
    private long _switches;

    /// <summary>
    /// Attaches the CPU-lane programs to the TUN and the socket group (through one member of each);
    /// <see cref="SteeringUnavailableException"/> when the kernel refuses either.
    /// </summary>
    public LaneSteering(CpuSteeringPrograms programs, TunDevice anyQueue, UdpEndpoint anySocket, ILog log, LanePolicy? policy = null)
    {
        _policy = policy ?? LanePolicy.WithSystemClock();
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
    }

    /// <summary>True while traffic goes to the CPU lanes; false while to the main lane.</summary>
    public bool CpuLanesActive => _policy.CpuLanesActive;

    /// <summary>Switches so far, either way.</summary>
    public long Switches => Volatile.Read(ref _switches);

    /// <summary>The main lane's wait limit (see LanePolicy).</summary>
    public int MainLaneTimeoutMs => _policy.MainLaneTimeoutMs;

    /// <summary>A CPU lane moved <paramref name="packets"/> since its last wait.</summary>
    public void CpuLaneDrained(ref LanePolicy.LaneWindow window, int packets)
    {
        if (_policy.CpuLaneDrained(ref window, packets)) SwitchTo(cpuLanes: false);
    }

    /// <summary>The main lane moved <paramref name="packets"/> since its last wait (0 after a timeout).</summary>
    public void MainLaneDrained(int packets)
    {
        if (_policy.MainLaneDrained(packets)) SwitchTo(cpuLanes: true);
    }

    private void SwitchTo(bool cpuLanes)
    {
        if (_frozen) return;
        lock (_gate)
        {
            if (_policy.CpuLanesActive == cpuLanes || _frozen) return;
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
            _policy.Switched(cpuLanes);
            Interlocked.Increment(ref _switches);
        }
    }

    public void Dispose() => _programs.Dispose();
}
