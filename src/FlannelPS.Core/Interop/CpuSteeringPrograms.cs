// The two eBPF programs that steer the datapath's packets between its lanes (see ForwardingLane).
// Both are socket-filter programs whose return value is a queue or socket index: the kernel runs
// the one attached to the TUN (TUNSETSTEERINGEBPF) for every packet the host sends into flannel0
// and the one attached to the SO_REUSEPORT group for every datagram that reaches port 8285.
//   ToCpuLane:  1 + (the CPU running the kernel's code for this packet) mod lanes;
//   ToMainLane: 0, the one unpinned, batching lane.
// Each is a handful of instructions with no maps, loaded once per network.
using System.Runtime.InteropServices;
using System.Text;

namespace FlannelPS.Core.Interop;

internal sealed unsafe partial class CpuSteeringPrograms : IDisposable
{
    private const int BPF_PROG_LOAD = 5;
    private const uint BPF_PROG_TYPE_SOCKET_FILTER = 1;
    private const int BPF_FUNC_get_smp_processor_id = 8;

    // struct bpf_insn: code, dst_reg:4 | src_reg:4, off, imm.
    private const byte BpfCall = 0x85;         // BPF_JMP | BPF_CALL
    private const byte BpfExit = 0x95;         // BPF_JMP | BPF_EXIT
    private const byte BpfMovImm64 = 0xb7;     // BPF_ALU64 | BPF_MOV | BPF_K
    private const byte BpfModImm64 = 0x97;     // BPF_ALU64 | BPF_MOD | BPF_K
    private const byte BpfAddImm64 = 0x07;     // BPF_ALU64 | BPF_ADD | BPF_K

    private readonly FdHandle _toCpuLane;
    private readonly FdHandle _toMainLane;

    private CpuSteeringPrograms(FdHandle toCpuLane, FdHandle toMainLane)
    {
        _toCpuLane = toCpuLane;
        _toMainLane = toMainLane;
    }

    public int ToCpuLaneFd => _toCpuLane.Fd;
    public int ToMainLaneFd => _toMainLane.Fd;

    /// <summary>
    /// Loads both programs for <paramref name="cpuLanes"/> (2 or more) CPU lanes, numbered 1..cpuLanes. Returns
    /// null with the reason when the kernel refuses (no BPF, not privileged, lockdown).
    /// </summary>
    public static CpuSteeringPrograms? TryLoad(int cpuLanes, out string? error)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpuLanes, 2);
        long[] toCpu = [Insn(BpfCall, 0, BPF_FUNC_get_smp_processor_id), Insn(BpfModImm64, 0, cpuLanes), Insn(BpfAddImm64, 0, 1), Insn(BpfExit, 0, 0)];
        long[] toMain = [Insn(BpfMovImm64, 0, 0), Insn(BpfExit, 0, 0)];
        var cpu = Load(toCpu, "flannel_cpulane", out error);
        if (cpu is null) return null;
        var main = Load(toMain, "flannel_mainlane", out error);
        if (main is null) { cpu.Dispose(); return null; }
        return new CpuSteeringPrograms(cpu, main);
    }

    private static long Insn(byte code, byte dst, int imm) => code | (long)dst << 8 | (long)imm << 32;

    /// <summary>union bpf_attr for BPF_PROG_LOAD, up to prog_name (what older kernels know too).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ProgLoadAttr
    {
        public uint ProgType;
        public uint InsnCount;
        public ulong Insns;
        public ulong License;
        public uint LogLevel;
        public uint LogSize;
        public ulong LogBuf;
        public uint KernVersion;
        public uint ProgFlags;
        public fixed byte ProgName[16];
    }

    // bpf through syscall() (see SyscallNumbers).
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int cmd, ProgLoadAttr* attr, uint size);

    private static FdHandle? Load(long[] program, string name, out string? error)
    {
        long nr = SyscallNumbers.Bpf;
        if (nr < 0) { error = $"no bpf syscall number for {RuntimeInformation.ProcessArchitecture}"; return null; }
        var attr = new ProgLoadAttr { ProgType = BPF_PROG_TYPE_SOCKET_FILTER, InsnCount = (uint)program.Length };
        var nameBytes = Encoding.ASCII.GetBytes(name);
        for (int i = 0; i < nameBytes.Length && i < 15; i++) attr.ProgName[i] = nameBytes[i];
        long fd;
        fixed (long* insns = program)
        fixed (byte* license = "MIT\0"u8) // the helper used is not GPL-only
        {
            attr.Insns = (ulong)insns;
            attr.License = (ulong)license;
            while ((fd = Syscall(nr, BPF_PROG_LOAD, &attr, (uint)sizeof(ProgLoadAttr))) < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR) { }
        }
        if (fd < 0)
        {
            error = $"bpf(BPF_PROG_LOAD) failed: {Errno.Describe(Marshal.GetLastPInvokeError())}";
            return null;
        }
        error = null;
        return new FdHandle((int)fd);
    }

    public void Dispose()
    {
        _toCpuLane.Dispose();
        _toMainLane.Dispose();
    }
}
