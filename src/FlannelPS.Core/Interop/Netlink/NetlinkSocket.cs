// An AF_NETLINK/NETLINK_ROUTE socket. It belongs to the network namespace of the thread that opened
// it, so it is opened per call or per batch, never shared. Two ways to talk: Request (one message,
// read its reply, dump or ack) and Exchange (a train of messages, all with NLM_F_ACK, sent in as few
// sendmsg calls as the socket buffers allow, each answered by one ack matched by sequence number).
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace FlannelPS.Core.Interop.Netlink;

internal sealed unsafe partial class NetlinkSocket : IDisposable
{
    /// <summary>What FlannelPS asks for both socket buffers (granted in full only to root, via *BUFFORCE).</summary>
    public const int RequestedBufferBytes = 8 << 20;

    /// <summary>
    /// What one ack may cost in the receive buffer: the kernel charges each ack skb's truesize (under
    /// 1 KiB for a 36-byte capped ack), not its length; 2 KiB leaves room for an error ack's text.
    /// Chunks are sized so every ack of a chunk fits, since acks that do not fit are dropped.
    /// </summary>
    public const int AckBudgetBytes = 2048;

    private const int SO_SNDBUF = 7, SO_RCVBUF = 8, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_RCVTIMEO = 20;
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(10);

    private readonly FdHandle _fd;
    private readonly byte[] _receive = new byte[256 * 1024];
    private uint _sequence;

    private NetlinkSocket(FdHandle fd, int sendBuffer, int receiveBuffer)
    {
        _fd = fd;
        SendBufferBytes = sendBuffer;
        ReceiveBufferBytes = receiveBuffer;
        _sequence = (uint)Environment.TickCount;
    }

    /// <summary>sendmsg calls made on this socket (tests check that a batch is one round trip).</summary>
    public int SendCalls { get; private set; }

    public int SendBufferBytes { get; }
    public int ReceiveBufferBytes { get; }

    public static NetlinkSocket OpenRoute()
    {
        var fd = LibC.socket(Netlink.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, Netlink.NETLINK_ROUTE);
        if (fd < 0) throw Errno.Exception("socket(AF_NETLINK, NETLINK_ROUTE)", Errno.Last);
        var handle = new FdHandle(fd);
        try
        {
            var snd = SetBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
            var rcv = SetBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
            int one = 1;
            // Both are best effort: without them acks are longer and carry no reason text.
            LibC.setsockopt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_CAP_ACK, &one, sizeof(int));
            LibC.setsockopt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_EXT_ACK, &one, sizeof(int));
            // struct timeval: seconds, microseconds (two longs on LP64).
            long* tv = stackalloc long[2] { (long)ReceiveTimeout.TotalSeconds, 0 };
            if (LibC.setsockopt(fd, LibC.SOL_SOCKET, SO_RCVTIMEO, tv, 2 * sizeof(long)) < 0)
                throw Errno.Exception("setsockopt(SO_RCVTIMEO)", Errno.Last);
            return new NetlinkSocket(handle, snd, rcv);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Sets a buffer (forced past rmem_max/wmem_max where allowed) and returns what the kernel granted.</summary>
    private static int SetBuffer(int fd, int forceOption, int option)
    {
        int size = RequestedBufferBytes;
        if (LibC.setsockopt(fd, LibC.SOL_SOCKET, forceOption, &size, sizeof(int)) < 0)
            LibC.setsockopt(fd, LibC.SOL_SOCKET, option, &size, sizeof(int));
        int granted = 0;
        socklen_t len = sizeof(int);
        if (LibC.getsockopt(fd, LibC.SOL_SOCKET, option, &granted, &len) < 0) throw Errno.Exception("getsockopt(SO_*BUF)", Errno.Last);
        return granted;
    }

    public uint NextSequence() => ++_sequence;

    /// <summary>
    /// Sends the writer's single message and returns the messages answering it: a dump's entries (up
    /// to NLMSG_DONE), a get's reply, or nothing for a change acked with success. A non-dump request
    /// must carry NLM_F_ACK. An error ack throws <see cref="NetlinkErrorException"/>.
    /// </summary>
    public List<NetlinkMessage> Request(NetlinkWriter request)
    {
        if (request.MessageCount != 1) throw new ArgumentException("Request sends exactly one message", nameof(request));
        var seq = request.Sequence(0);
        var header = NetlinkMessage.Split(request.Written)[0];
        var dump = (header.Flags & Netlink.NLM_F_DUMP) == Netlink.NLM_F_DUMP;
        for (int attempt = 1; ; attempt++)
        {
            Send(request.Written);
            var answer = new List<NetlinkMessage>();
            var interrupted = false;
            while (true)
            {
                var done = false;
                foreach (var m in NetlinkMessage.Split(Receive(blocking: true)))
                {
                    if (m.Sequence != seq) continue; // a late answer to something earlier on this socket
                    if ((m.Flags & Netlink.NLM_F_DUMP_INTR) != 0) interrupted = true;
                    if (m.Type == Netlink.NLMSG_ERROR)
                    {
                        var ack = ParseAck(m);
                        if (!ack.Succeeded) throw new NetlinkErrorException(ack);
                        done = true;
                    }
                    else if (m.Type == Netlink.NLMSG_DONE)
                    {
                        var err = m.Payload.Length >= 4 ? m.S32(0) : 0;
                        if (err < 0) throw new NetlinkErrorException(new NetlinkAck(-err));
                        done = true;
                    }
                    else if (m.Type != Netlink.NLMSG_NOOP)
                    {
                        answer.Add(m);
                    }
                }
                if (done) break;
            }
            // A dump that raced a change may be inconsistent; the kernel flags it and a retry is cheap.
            if (!(dump && interrupted && attempt < 3)) return answer;
        }
    }

    /// <summary>
    /// Sends every message of <paramref name="train"/> (each with NLM_F_ACK) and returns their acks in
    /// message order. Messages go in chunks that fit both socket buffers, one sendmsg per chunk; a
    /// failed message does not stop the ones after it. Acks the kernel could not queue (ENOBUFS) are
    /// reported as ENOBUFS for their messages.
    /// </summary>
    /// <param name="maxMessagesPerSend">A lower cap than the buffers allow (tests of the chunked path).</param>
    public NetlinkAck[] Exchange(NetlinkWriter train, int maxMessagesPerSend = int.MaxValue)
    {
        var n = train.MessageCount;
        var acks = new NetlinkAck?[n];
        var index = new Dictionary<uint, int>(n);
        for (int i = 0; i < n; i++) index[train.Sequence(i)] = i;
        var maxMessages = Math.Clamp(ReceiveBufferBytes / AckBudgetBytes, 1, Math.Max(1, maxMessagesPerSend));
        var maxBytes = Math.Max(4096, SendBufferBytes - 1024);
        var written = train.Written;
        int first = 0;
        while (first < n)
        {
            var (start, _) = train.MessageBounds(first);
            int last = first, end = start;
            while (last < n && last - first < maxMessages)
            {
                var (o, l) = train.MessageBounds(last);
                if (o + l - start > maxBytes && last > first) break;
                end = o + l;
                last++;
            }
            Send(written[start..end]);
            ReadAcks(acks, index, first, last);
            first = last;
        }
        var result = new NetlinkAck[n];
        for (int i = 0; i < n; i++) result[i] = acks[i] ?? new NetlinkAck(Errno.ENOBUFS, "no acknowledgement received");
        return result;
    }

    private void ReadAcks(NetlinkAck?[] acks, Dictionary<uint, int> index, int first, int last)
    {
        var pending = last - first;
        var overrun = false;
        while (pending > 0)
        {
            ReadOnlySpan<byte> datagram;
            try
            {
                datagram = Receive(blocking: !overrun);
            }
            catch (NetlinkErrorException e) when (e.Errno == Errno.ENOBUFS)
            {
                overrun = true; // some acks were dropped; drain what is queued, then give up on the rest
                continue;
            }
            if (datagram.IsEmpty) return; // nothing more queued after an overrun
            foreach (var m in NetlinkMessage.Split(datagram))
            {
                if (m.Type != Netlink.NLMSG_ERROR || !index.TryGetValue(m.Sequence, out var i) || i < first || i >= last || acks[i] is not null) continue;
                acks[i] = ParseAck(m);
                pending--;
            }
        }
    }

    /// <summary>struct nlmsgerr: s32 error, the request's header (and, uncapped, its payload), then TLVs.</summary>
    internal static NetlinkAck ParseAck(NetlinkMessage m)
    {
        if (m.Payload.Length < 4) return new NetlinkAck(Errno.EIO, "truncated acknowledgement");
        var errno = -m.S32(0);
        string? text = null;
        if ((m.Flags & Netlink.NLM_F_ACK_TLVS) != 0 && m.Payload.Length >= 4 + Netlink.HeaderSize)
        {
            var tlvStart = 4 + Netlink.HeaderSize;
            if ((m.Flags & Netlink.NLM_F_CAPPED) == 0)
                tlvStart = 4 + Netlink.Align((int)m.U32(4));
            if (tlvStart <= m.Payload.Length)
                text = NetlinkAttributes.Parse(m.Payload, tlvStart, m.Payload.Length - tlvStart).String(Netlink.NLMSGERR_ATTR_MSG);
        }
        return new NetlinkAck(errno, text);
    }

    private void Send(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            var iov = new NativeMethods.IoVec { Base = p, Length = (nuint)bytes.Length };
            var msg = new NativeMethods.MsgHdr { Iov = &iov, IovLen = 1 };
            nint r;
            do r = SendMsg(_fd.Fd, &msg, 0);
            while (r < 0 && Marshal.GetLastSystemError() == Errno.EINTR);
            SendCalls++;
            if (r < 0) throw Errno.Exception($"sendmsg(netlink, {bytes.Length} bytes)", Marshal.GetLastSystemError());
        }
    }

    /// <summary>One datagram; empty when non-blocking and nothing is queued. ENOBUFS (acks dropped) throws NetlinkErrorException.</summary>
    private ReadOnlySpan<byte> Receive(bool blocking)
    {
        fixed (byte* p = _receive)
        {
            var iov = new NativeMethods.IoVec { Base = p, Length = (nuint)_receive.Length };
            var msg = new NativeMethods.MsgHdr { Iov = &iov, IovLen = 1 };
            nint r;
            int err;
            do { r = RecvMsg(_fd.Fd, &msg, blocking ? 0 : NativeMethods.MSG_DONTWAIT); err = r < 0 ? Marshal.GetLastSystemError() : 0; }
            while (r < 0 && err == Errno.EINTR);
            if (r < 0)
            {
                if (err == Errno.EAGAIN)
                {
                    if (!blocking) return default;
                    throw new TimeoutException($"the kernel did not answer a netlink request within {ReceiveTimeout.TotalSeconds} s");
                }
                if (err == Errno.ENOBUFS) throw new NetlinkErrorException(new NetlinkAck(Errno.ENOBUFS, "netlink receive buffer overrun"));
                throw Errno.Exception("recvmsg(netlink)", err);
            }
            if ((msg.Flags & NativeMethods.MSG_TRUNC) != 0)
                throw new InvalidDataException($"a netlink datagram was larger than the {_receive.Length}-byte receive buffer");
            return _receive.AsSpan(0, (int)r);
        }
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(int fd, NativeMethods.MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(int fd, NativeMethods.MsgHdr* msg, int flags);

    public void Dispose() => _fd.Dispose();
}
