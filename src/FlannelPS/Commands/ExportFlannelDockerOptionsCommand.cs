// Export-FlannelDockerOptions: mk-docker-opts.sh as a cmdlet. Reads subnet.env, writes
// docker_opts.env byte-identical to upstream's script (Core's DockerOptions does the work).
using System.Management.Automation;
using FlannelPS.Core.Docker;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;
using FlannelPS.Infrastructure;

namespace FlannelPS.Commands;

[Cmdlet(VerbsData.Export, "FlannelDockerOptions", SupportsShouldProcess = true, DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(FlannelDockerOptions))]
public sealed class ExportFlannelDockerOptionsCommand : FlannelCmdlet
{
    private const string DefaultSet = "Default";

    /// <summary>The docker env file to write (mk-docker-opts -d). Default /run/docker_opts.env.</summary>
    [Parameter(Position = 0, ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = DockerOptionsSettings.DefaultOutputPath;

    /// <summary>The flannel subnet.env to read (mk-docker-opts -f). A missing file gives empty options, as upstream.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string SubnetFile { get; set; } = SubnetEnvFile.DefaultPath;

    /// <summary>Write the combined KEY="..." line (-c). With neither -Combined nor -Individual both are written.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter Combined { get; set; }

    /// <summary>Write one DOCKER_OPT_*="..." line per option (-i).</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter Individual { get; set; }

    /// <summary>Name of the combined variable (-k); its current environment value is prepended. Default DOCKER_OPTS.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    [ValidateNotNullOrEmpty]
    public string Key { get; set; } = DockerOptionsSettings.DefaultKey;

    /// <summary>Leave --ip-masq out (-m), for Docker versions without it.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter NoIpMasq { get; set; }

    /// <summary>Emit a FlannelDockerOptions object describing what was written.</summary>
    [Parameter(ParameterSetName = DefaultSet)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var path = ResolvePath(Path);
        var subnetFile = ResolvePath(SubnetFile);
        var settings = new DockerOptionsSettings(Combined, Individual, Key, NoIpMasq);
        try
        {
            // Render first: an invalid FLANNEL_IPMASQ fails here and the output file is never touched.
            var result = DockerOptions.Export(subnetFile, path, settings, ProcessEnvironment(), write: false);
            if (!result.SubnetFileFound)
                WriteWarning($"Subnet file '{subnetFile}' does not exist; writing empty Docker options as mk-docker-opts.sh does.");
            if (ShouldProcess($"Write Docker options to '{path}':\n{result.Content}", $"Write Docker options to '{path}'?", "Export-FlannelDockerOptions"))
                AtomicFile.WriteAllText(path, result.Content);
            if (PassThru) WriteObject(result);
            // As current flannel's script: after the file is written, a via-route to the subnet is an error.
            if (DockerRouteGuard.Check(result.FlannelSubnet, new Core.Host.RtnetlinkHostNetwork()) is { } conflict) throw conflict;
        }
        catch (FlannelException ex)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex));
        }
    }

    /// <summary>The process environment, which the script would start with: DOCKER_OPT_*, the -Key variable, FLANNEL_*.</summary>
    private static Dictionary<string, string> ProcessEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string k && e.Value is string v) env[k] = v;
        return env;
    }
}
