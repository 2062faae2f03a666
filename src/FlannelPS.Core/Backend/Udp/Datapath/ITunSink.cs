// Where the receive side's packets go: flannel0 (TunDevice) in the datapath, a recorder in tests.
namespace FlannelPS.Core.Backend.Udp.Datapath;

internal interface ITunSink
{
    /// <summary>Writes one packet preceded by its virtio_net_hdr; false when it could not be written.</summary>
    bool Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet);
}
