// The one mapping between flanneld's settings (its flags and FLANNELD_* variables) and what a node
// runs with. The compiled flanneld runs nodes through it, Start-FlannelNode and
// Install-FlannelService build FlanneldSettings from their parameters and go through it too, so a
// flag and its parameter cannot mean different things.
using System.Net;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Node;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Cli;

public static class FlanneldNodeMapping
{
    /// <summary>The node options <paramref name="settings"/> describe, checked as flanneld checks its
    /// flags (flannel's own text for the renew margin; the health address must be an IP).</summary>
    public static NodeOptions ToNodeOptions(FlanneldSettings settings)
    {
        var margin = TimeSpan.FromMinutes(settings.SubnetLeaseRenewMargin);
        LeaseRenewer.ValidateMargin(margin);
        if (settings.IptablesResync < 1)
            throw Invalid($"iptables-resync {settings.IptablesResync} is out of range: it must be at least 1 second.", settings.IptablesResync);
        if (settings.HealthzPort is < 0 or > 65535)
            throw Invalid($"healthz-port {settings.HealthzPort} is out of range: it must be 0..65535.", settings.HealthzPort);
        IPEndPoint? healthz = null;
        if (settings.HealthzPort > 0)
        {
            if (!IPAddress.TryParse(settings.HealthzIP, out var ip))
                throw Invalid($"healthz-ip '{settings.HealthzIP}' is not an IP address.", settings.HealthzIP);
            healthz = new IPEndPoint(ip, settings.HealthzPort);
        }
        return new NodeOptions
        {
            Interfaces = settings.Iface,
            InterfaceRegexes = settings.IfaceRegex,
            InterfaceCanReach = settings.IfaceCanReach,
            PublicIP = settings.PublicIP,
            IpMasq = settings.IpMasq,
            SubnetFile = settings.SubnetFile,
            RenewMargin = margin,
            IptablesForwardRules = settings.IptablesForwardRules,
            IptablesResync = TimeSpan.FromSeconds(settings.IptablesResync),
            HealthzEndpoint = healthz,
        };
    }

    /// <summary>The etcd connection <paramref name="settings"/> describe (a comma list of endpoints).</summary>
    public static EtcdOptions ToEtcdOptions(FlanneldSettings settings, TimeSpan? requestTimeout = null) => new()
    {
        Endpoints = settings.EtcdEndpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        Prefix = settings.EtcdPrefix,
        CAFile = Empty(settings.EtcdCAFile),
        CertFile = Empty(settings.EtcdCertFile),
        KeyFile = Empty(settings.EtcdKeyFile),
        Username = Empty(settings.EtcdUsername),
        Password = Empty(settings.EtcdUsername) is null ? null : settings.EtcdPassword,
        RequestTimeout = requestTimeout ?? EtcdOptions.DefaultRequestTimeout,
    };

    /// <summary>The etcd part of flanneld's settings from an etcd connection (what the etcd cmdlets resolved).</summary>
    public static FlanneldSettings WithEtcd(this FlanneldSettings settings, EtcdOptions etcd) => settings with
    {
        EtcdEndpoints = string.Join(',', etcd.Endpoints),
        EtcdPrefix = etcd.Prefix,
        EtcdCAFile = etcd.CAFile,
        EtcdCertFile = etcd.CertFile,
        EtcdKeyFile = etcd.KeyFile,
        EtcdUsername = etcd.Username,
        EtcdPassword = etcd.Password,
    };

    private static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static FlannelException Invalid(string message, object target) =>
        new("FlannelInvalidArgument", FlannelErrorCategory.InvalidArgument, message, target);
}
