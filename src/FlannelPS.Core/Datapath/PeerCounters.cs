// Per-peer traffic counters. Each field has one writer (tx: the TUN→UDP thread, rx: the UDP→TUN
// thread), so plain stores suffice; readers use Volatile reads and never take a lock.
namespace FlannelPS.Core.Datapath;

public sealed class PeerCounters
{
    internal long TxPacketsField, TxBytesField, RxPacketsField, RxBytesField;

    public long TxPackets => Volatile.Read(ref TxPacketsField);
    public long TxBytes => Volatile.Read(ref TxBytesField);
    public long RxPackets => Volatile.Read(ref RxPacketsField);
    public long RxBytes => Volatile.Read(ref RxBytesField);
}
