// Per-peer traffic counters. Several lanes (threads) may count the same peer at once, so updates
// are interlocked (uncontended: a few ns); readers use Volatile reads and never take a lock.
namespace FlannelPS.Core.Backend.Udp.Datapath;

public sealed class PeerCounters
{
    private long _txPackets, _txBytes, _rxPackets, _rxBytes;

    public long TxPackets => Volatile.Read(ref _txPackets);
    public long TxBytes => Volatile.Read(ref _txBytes);
    public long RxPackets => Volatile.Read(ref _rxPackets);
    public long RxBytes => Volatile.Read(ref _rxBytes);

    internal void AddTx(int packets, long bytes)
    {
        Interlocked.Add(ref _txPackets, packets);
        Interlocked.Add(ref _txBytes, bytes);
    }

    internal void AddRx(int packets, long bytes)
    {
        Interlocked.Add(ref _rxPackets, packets);
        Interlocked.Add(ref _rxBytes, bytes);
    }
}
