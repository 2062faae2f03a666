// Uninstall-FlannelService: stops and disables the service where systemd runs, then removes exactly
// the unit and environment file Install-FlannelService wrote (files carrying its marker).
using System.Management.Automation;
using FlannelPS.Core.Service;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsLifecycle.Uninstall, "FlannelService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FlannelService))]
public sealed class UninstallFlannelServiceCommand : FlannelCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>The unit's name (default flanneld).</summary>
    [Parameter(Position = 0, ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = FlannelServiceSettings.DefaultName;

    /// <summary>The unit file Install wrote. Default /etc/systemd/system/NAME.service.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string? UnitPath { get; set; }

    /// <summary>The environment file Install wrote. Default /etc/sysconfig/flanneld.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string EnvironmentFilePath { get; set; } = FlannelServiceSettings.DefaultEnvironmentFilePath;

    /// <summary>Remove the files even though they lack FlannelPS's marker line.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Emit a FlannelService object describing what was removed.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var name = Name;
        var unitPath = ResolvePath(UnitPath ?? $"/etc/systemd/system/{Name}.service");
        var envPath = ResolvePath(EnvironmentFilePath);
        var force = Force.IsPresent;
        var passThru = PassThru.IsPresent;
        RunAsync(async ct =>
        {
            var installer = new FlannelServiceInstaller();
            var plan = installer.PlanUninstall(name, unitPath, envPath, force);
            if (!plan.Changed)
            {
                EmitVerbose($"Nothing of FlannelPS's to remove at '{unitPath}' or '{envPath}'.");
                return;
            }
            // Stop first, while systemd still has the unit file.
            if (installer.SystemdRunning && plan.FilesRemoved.Contains(unitPath)
                && Confirm($"{name}.service", "systemctl disable --now"))
            {
                plan = await installer.StopAndDisableAsync(plan, ct).ConfigureAwait(false);
            }
            var approved = true;
            foreach (var path in plan.FilesRemoved)
                approved &= OnPipeline(() => ShouldProcess($"Remove '{path}'", $"Remove '{path}'?", "Uninstall-FlannelService"));
            if (!approved) return;
            FlannelServiceInstaller.Apply(plan);
            if (installer.SystemdRunning) await installer.ReloadAsync(name, ct).ConfigureAwait(false);
            if (passThru) Emit(plan);
        });
    }
}
