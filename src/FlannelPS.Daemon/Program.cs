// flanneld: flanneld's command line and FLANNELD_* variables, one FlannelPS node in the foreground,
// glog-style lines on stderr. Exit codes as flanneld: 0 on a clean stop (SIGTERM/SIGINT) and for
// --version/--help, 1 on invalid values or a failed node, 2 on command-line syntax errors.
using System.Runtime.InteropServices;
using FlannelPS.Core.Backend.Udp;
using FlannelPS.Core.Cli;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Interop;
using FlannelPS.Core.Node;

namespace FlannelPS.Daemon;

internal static class Program
{
    private static int Main(string[] args)
    {
        SignalDisposition.ResetInterruptToDefault();
        var parse = FlanneldCommandLine.Parse(args, Environment.GetEnvironmentVariable);
        if (parse.Message is not null) Console.Error.WriteLine(parse.Message);
        if (parse.Settings is not { Help: false } settings) return parse.ExitCode;
        if (settings.Version)
        {
            var v = typeof(Program).Assembly.GetName().Version!;
            Console.Error.WriteLine($"v{v.Major}.{v.Minor}.{v.Build} (FlannelPS)");
            return 0;
        }

        var log = new GlogLog();
        FlannelNode node;
        try
        {
            var options = FlanneldNodeMapping.ToNodeOptions(settings);
            // What can be known before etcd answers (root, -public-ip, -iface), with Start-FlannelNode's texts.
            NodePreflight.Check(options, config: null);
            node = FlannelNodeFactory.Create(options, FlanneldNodeMapping.ToEtcdOptions(settings), log, DatapathTuning());
        }
        catch (FlannelException ex)
        {
            log.Error(ex.Message);
            return 1;
        }
        // Node events are the lines a user follows (lease acquired, peers); a config error was already a warning.
        node.EventRaised += e => { if (e.Kind != NodeEventKind.ConfigError) log.Info(e.Message); };

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        try
        {
            node.RunAsync(stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            if (ex.Message != log.LastError) log.Error(ex.Message);
            return 1;
        }
        log.Info("Exiting cleanly...");
        return 0;

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // stop cleanly instead of the runtime's default exit
            stop.Cancel();
        }
    }

    /// <summary>The datapath's settings, from the FLANNELPS_DATAPATH_* variables.</summary>
    private static UdpDatapathTuning DatapathTuning() => UdpDatapathTuning.FromVariables(Environment.GetEnvironmentVariable);
}
