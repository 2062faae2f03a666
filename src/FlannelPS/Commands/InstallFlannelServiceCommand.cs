// Install-FlannelService: the rpm route as a cmdlet. Writes flanneld.service and its
// /etc/sysconfig/flanneld-style environment file, then enables and starts the service where systemd
// runs. The logic lives in Core (Service/); this only gathers parameters and confirms.
using System.Management.Automation;
using FlannelPS.Core.Cli;
using FlannelPS.Core.Node;
using FlannelPS.Core.Service;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsLifecycle.Install, "FlannelService", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FlannelService))]
public sealed class InstallFlannelServiceCommand : NodeSettingsCmdlet
{
    private const string DefaultSet = "Default";

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

    /// <summary>Write the files (and enable the unit) but do not start or restart it.</summary>
    [Parameter]
    public SwitchParameter NoStart { get; set; }

    /// <summary>Replace files that Install-FlannelService did not write (e.g. a packaged /etc/sysconfig/flanneld).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var binDirectory = Path.Combine(ModuleBase(), "bin");
        var node = BuildNodeOptions(); // the node checks, so a unit that would crash-loop is never written
        var etcd = BuildEtcdOptions();
        // The same settings flanneld parses from FLANNEL_OPTIONS, and BuildNodeOptions has checked them.
        var flanneld = BuildFlanneldSettings().WithEtcd(etcd);
        var settings = new FlannelServiceSettings
        {
            Name = Name,
            UnitPath = ResolvePath(UnitPath ?? $"/etc/systemd/system/{Name}.service"),
            EnvironmentFilePath = ResolvePath(EnvironmentFilePath),
            BinDirectory = binDirectory,
            Flanneld = flanneld,
            AdditionalOptions = AdditionalOption ?? [],
        };
        var force = Force.IsPresent;
        var noStart = NoStart.IsPresent;
        RunAsync(async ct =>
        {
            var installer = new FlannelServiceInstaller();
            var plan = installer.PlanInstall(settings, force); // refuses what flanneld could not even parse
            // A unit with Restart=always and a bad -PublicIP or -Interface would crash-loop: refuse it, write nothing.
            NodePreflight.CheckSettings(node);
            if (!plan.Changed)
            {
                EmitVerbose($"'{plan.UnitPath}' and '{plan.EnvironmentFilePath}' already have the wanted content; nothing written.");
            }
            else
            {
                // Every file that changes is shown (and -WhatIf prints each) before any is written; a
                // file already as wanted is not asked about, so declining it cannot hold back the other.
                var approved = true;
                foreach (var (path, content) in new[] { (plan.EnvironmentFilePath, plan.EnvironmentContent!), (plan.UnitPath, plan.UnitContent!) })
                {
                    if (!plan.FilesWritten.Contains(path))
                    {
                        EmitVerbose($"'{path}' already has the wanted content; left as it is.");
                        continue;
                    }
                    approved &= OnPipeline(() => ShouldProcess($"Write '{path}' with:\n{content}", $"Write '{path}' with:\n{content}\nContinue?", "Install-FlannelService"));
                }
                if (!approved) return;
                FlannelServiceInstaller.Apply(plan);
            }
            if (!installer.SystemdRunning)
            {
                EmitWarning(installer.ManualStartHint(plan, settings.BinDirectory));
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
}
