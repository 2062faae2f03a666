// The switches of mk-docker-opts.sh (-i, -c, -k, -m) as one value.
namespace FlannelPS.Core.Docker;

/// <param name="Combined">-c: write KEY="combined".</param>
/// <param name="Individual">-i: write one DOCKER_OPT_*="value" line per option. Neither flag means both.</param>
/// <param name="Key">-k: name of the combined variable.</param>
/// <param name="NoIpMasq">-m: leave --ip-masq out entirely (for old Docker versions).</param>
public sealed record DockerOptionsSettings(
    bool Combined = false,
    bool Individual = false,
    string Key = DockerOptionsSettings.DefaultKey,
    bool NoIpMasq = false)
{
    public const string DefaultKey = "DOCKER_OPTS";
    public const string DefaultOutputPath = "/run/docker_opts.env";

    public bool WritesCombined => Combined || !Individual;
    public bool WritesIndividual => Individual || !Combined;
}
