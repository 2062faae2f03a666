// A shell starts `cmd &` with SIGINT and SIGQUIT ignored, and the .NET runtime leaves an inherited
// ignore in place (it installs no handler for them). flanneld stops on SIGINT regardless of how it
// was started, so the daemon puts SIGINT back to its default before it registers its own handler.
using System.Runtime.InteropServices;

namespace FlannelPS.Core.Interop;

public static partial class SignalDisposition
{
    private const int SigInt = 2;
    private static readonly nint SigDfl = 0;

    /// <summary>Sets SIGINT's disposition to the default (terminate); call before any signal handler is registered.</summary>
    public static void ResetInterruptToDefault() => _ = signal(SigInt, SigDfl);

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint signal(int signum, nint handler);
}
