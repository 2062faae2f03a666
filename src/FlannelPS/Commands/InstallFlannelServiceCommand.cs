// Install-FlannelService: the rpm route as a cmdlet. Writes flanneld.service and its
// /etc/sysconfig/flanneld-style environment file, then enables and starts the service where systemd
// runs. The logic lives in Core (Service/); this only gathers parameters and confirms.
using System.Management.Automation;
using FlannelPS.Core.Cli;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Service;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsLifecycle.Install, "FlannelService", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FlannelService))]
public sealed class InstallFlannelServiceCommand : FlannelCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>etcd endpoints the service uses (FLANNEL_ETCD_ENDPOINTS). Default http://127.0.0.1:2379.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] EtcdEndpoint { get; set; } = [EtcdOptions.DefaultEndpoint];

    /// <summary>etcd prefix holding config and subnets (FLANNEL_ETCD_PREFIX). Default /coreos.com/network.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string EtcdPrefix { get; set; } = EtcdOptions.DefaultPrefix;

    /// <summary>CA certificate for etcd over TLS (-etcd-cafile).</summary>
    [Parameter]
    public string? EtcdCAFile { get; set; }

    /// <summary>Client certificate for etcd over TLS (-etcd-certfile).</summary>
    [Parameter]
    public string? EtcdCertFile { get; set; }

    /// <summary>Client key for etcd over TLS (-etcd-keyfile).</summary>
    [Parameter]
    public string? EtcdKeyFile { get; set; }

    /// <summary>etcd user and password (-etcd-username/-etcd-password); the environment file is then readable by root only.</summary>
    [Parameter]
    [Credential]
    public PSCredential? EtcdCredential { get; set; }

    /// <summary>Interface names or IPv4 addresses for inter-host traffic (-iface, repeated).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string[]? Interface { get; set; }

    /// <summary>IP advertised to other nodes (-public-ip).</summary>
    [Parameter]
    public string? PublicIP { get; set; }

    /// <summary>Install flannel's masquerade rules (-ip-masq=true).</summary>
    [Parameter]
    public SwitchParameter IpMasq { get; set; }

    /// <summary>Where the node writes subnet.env (-subnet-file). Default /run/flannel/subnet.env.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SubnetFile { get; set; }

    /// <summary>Minutes before expiry to renew the lease (-subnet-lease-renew-margin, 1..1439, default 60).</summary>
    [Parameter]
    [ValidateRange(1, 1439)]
    public int SubnetLeaseRenewMargin { get; set; } = 60;

    /// <summary>Seconds between iptables checks (-iptables-resync, default 5).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int IptablesResyncSec { get; set; } = 5;

    /// <summary>Do not install the FLANNEL-FWD ACCEPT rules (-iptables-forward-rules=false).</summary>
    [Parameter]
    public SwitchParameter NoIptablesForwardRules { get; set; }

    /// <summary>Port for GET /healthz and /readyz (-healthz-port); 0 (default) disables.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int HealthzPort { get; set; }

    /// <summary>Address the health endpoint listens on (-healthz-ip, default 127.0.0.1).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string HealthzIP { get; set; } = "127.0.0.1";

    /// <summary>Further flanneld flags appended to FLANNEL_OPTIONS verbatim, e.g. '-v=2'; checked as flanneld would parse them.</summary>
    [Parameter]
    public string[]? AdditionalOption { get; set; }

    /// <summary>The unit's name (default flanneld: flanneld.service).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = FlannelServiceSettings.DefaultName;

    /// <summary>Where the unit file goes. Default /etc/systemd/system/flanneld.service.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? UnitPath { get; set; }

    /// <summary>Where the environment file goes (the unit's EnvironmentFile=). Default /etc/sysconfig/flanneld.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string EnvironmentFilePath { get; set; } = FlannelServiceSettings.DefaultEnvironmentFilePath;

    /// <summary>How the service starts pwsh (FLANNELPS_PWSH). Default: the pwsh running this command.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PwshCommand { get; set; }

    /// <summary>Write the files (and enable the unit) but do not start or restart it.</summary>
    [Parameter]
    public SwitchParameter NoStart { get; set; }

    /// <summary>Replace files that Install-FlannelService did not write (e.g. a packaged /etc/sysconfig/flanneld).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var binDirectory = Path.Combine(ModuleBase(), "bin");
        var flanneld = new FlanneldSettings
        {
            EtcdEndpoints = string.Join(',', EtcdEndpoint),
            EtcdPrefix = EtcdPrefix,
            EtcdCAFile = ResolveOptionalPath(EtcdCAFile),
            EtcdCertFile = ResolveOptionalPath(EtcdCertFile),
            EtcdKeyFile = ResolveOptionalPath(EtcdKeyFile),
            EtcdUsername = EtcdCredential?.UserName,
            EtcdPassword = EtcdCredential is { } c ? EtcdCmdlet.PlainPassword(c) : null,
            Iface = Interface ?? [],
            PublicIP = PublicIP,
            IpMasq = IpMasq,
            SubnetFile = SubnetFile is null ? new FlanneldSettings().SubnetFile : ResolvePath(SubnetFile),
            SubnetLeaseRenewMargin = SubnetLeaseRenewMargin,
            IptablesResync = IptablesResyncSec,
            IptablesForwardRules = !NoIptablesForwardRules,
            HealthzIP = HealthzIP,
            HealthzPort = HealthzPort,
        };
        var settings = new FlannelServiceSettings
        {
            Name = Name,
            UnitPath = ResolvePath(UnitPath ?? $"/etc/systemd/system/{Name}.service"),
            EnvironmentFilePath = ResolvePath(EnvironmentFilePath),
            BinDirectory = binDirectory,
            PwshCommand = PwshCommand ?? CurrentPwshCommand(),
            Flanneld = flanneld,
            AdditionalOptions = AdditionalOption ?? [],
        };
        var force = Force.IsPresent;
        var noStart = NoStart.IsPresent;
        RunAsync(async ct =>
        {
            var installer = new FlannelServiceInstaller();
            var plan = installer.PlanInstall(settings, force);
            if (!plan.Changed)
            {
                EmitVerbose($"'{plan.UnitPath}' and '{plan.EnvironmentFilePath}' already have the wanted content; nothing written.");
            }
            else
            {
                // Both files are shown (and -WhatIf prints both) before either is written.
                var approved = true;
                foreach (var (path, content) in new[] { (plan.EnvironmentFilePath, plan.EnvironmentContent!), (plan.UnitPath, plan.UnitContent!) })
                {
                    approved &= OnPipeline(() => ShouldProcess($"Write '{path}' with:\n{content}", $"Write '{path}' with:\n{content}\nContinue?", "Install-FlannelService"));
                }
                if (!approved) return;
                FlannelServiceInstaller.Apply(plan);
            }
            if (!installer.SystemdRunning)
            {
                EmitWarning(FlannelServiceInstaller.ManualStartHint(plan, settings.BinDirectory));
            }
            else if (Confirm($"{plan.Name}.service", noStart ? "systemctl enable" : "systemctl enable; systemctl " + (plan.Changed ? "restart" : "start")))
            {
                plan = await installer.EnableAndStartAsync(plan, start: !noStart, ct).ConfigureAwait(false);
            }
            Emit(plan);
        });
    }

    private string ModuleBase() =>
        MyInvocation.MyCommand.Module?.ModuleBase
        ?? Path.GetDirectoryName(typeof(InstallFlannelServiceCommand).Assembly.Location)!;

    // pwsh here is either a native pwsh or `dotnet pwsh.dll` (a local tool); systemd needs it spelled out.
    private string CurrentPwshCommand()
    {
        var exe = Environment.ProcessPath ?? "pwsh";
        if (!string.Equals(Path.GetFileNameWithoutExtension(exe), "dotnet", StringComparison.Ordinal)) return exe;
        var psHome = SessionState.PSVariable.GetValue("PSHOME") as string ?? Path.GetDirectoryName(typeof(PSObject).Assembly.Location)!;
        return $"{exe} {Path.Combine(psHome, "pwsh.dll")}";
    }
}
