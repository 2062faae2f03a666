// Numbers of the Linux syscalls FlannelPS calls through glibc's syscall() because glibc has no
// wrapper for them (sched_setattr before 2.41, bpf never). syscall() is assembly that only moves
// registers, so binding its variadic form with fixed integer/pointer arguments is safe on x86-64
// and arm64. -1 on an architecture whose numbers are not listed.
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Interop;

internal static class SyscallNumbers
{
    public static long SchedSetattr => Pick(x64: 314, arm64: 274);
    public static long Bpf => Pick(x64: 321, arm64: 280);

    private static long Pick(long x64, long arm64) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => x64,
        Architecture.Arm64 => arm64,
        _ => -1,
    };
}
