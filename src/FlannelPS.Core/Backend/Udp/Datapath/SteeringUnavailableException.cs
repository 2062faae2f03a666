// The kernel loaded the steering programs but would not attach one (a kernel before 4.16 has no
// TUN steering): UdpBackend then starts again on the main lane alone.
namespace FlannelPS.Core.Backend.Udp.Datapath;

internal sealed class SteeringUnavailableException(IOException inner) : IOException(inner.Message, inner);
