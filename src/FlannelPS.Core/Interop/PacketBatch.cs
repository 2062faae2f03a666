// A fixed set of packet slots allocated once (pinned, so native calls can point into it) and reused
// for every batch: the unit the TUN and UDP sides read and write, slot after slot in one buffer.
// Where the kernel reads into a slot, it is sized above the MTU so an oversize datagram is seen as
// oversize rather than silently cut to fit.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Interop;

public sealed unsafe class PacketBatch
{
    private readonly byte[] _buffer;

    public PacketBatch(int capacity, int slotSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 64);
        Capacity = capacity;
        SlotSize = slotSize;
        _buffer = GC.AllocateArray<byte>(capacity * slotSize, pinned: true);
        Lengths = new int[capacity];
        Addresses = new uint[capacity];
        Ports = new ushort[capacity];
        Truncated = new bool[capacity];
        SegmentSizes = new int[capacity];
    }

    public int Capacity { get; }
    public int SlotSize { get; }

    /// <summary>Bytes held in each slot (the datagram length reported by the kernel).</summary>
    public int[] Lengths { get; }
    /// <summary>Peer IPv4 address per slot (host order): source after a receive, destination for a send.</summary>
    public uint[] Addresses { get; }
    /// <summary>Peer UDP port per slot (host order).</summary>
    public ushort[] Ports { get; }
    /// <summary>True when the kernel reported the datagram did not fit the slot (MSG_TRUNC).</summary>
    public bool[] Truncated { get; }
    /// <summary>
    /// After a receive on a socket with UDP GRO: the size of the datagrams the slot holds back to back
    /// (the last may be shorter); 0 when the slot holds one datagram.
    /// </summary>
    public int[] SegmentSizes { get; }

    public Span<byte> Slot(int index) => _buffer.AsSpan(index * SlotSize, SlotSize);

    public Span<byte> Packet(int index) => _buffer.AsSpan(index * SlotSize, Math.Min(Lengths[index], SlotSize));

    internal byte* SlotPointer(int index) =>
        (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer)) + (nint)index * SlotSize;
}
