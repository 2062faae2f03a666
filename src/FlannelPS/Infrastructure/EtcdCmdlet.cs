// Common parameters of every cmdlet that talks to etcd, or (Install-FlannelService) records how the
// service will. Defaults come from flannel's FLANNELD_* environment variables; an explicit parameter
// wins, as on flanneld's command line. EtcdCmdlet adds the request timeout, which flanneld has no
// flag for, to the cmdlets that make the requests themselves.
using System.Management.Automation;
using System.Net;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Registry;

namespace FlannelPS.Infrastructure;

public abstract class EtcdCmdlet : EtcdConnectionCmdlet
{
    /// <summary>Seconds each etcd request may take before it fails (default 5).</summary>
    [Parameter]
    [ValidateRange(1, 300)]
    public int EtcdTimeoutSec { get; set; } = 5;

    protected override TimeSpan RequestTimeout => TimeSpan.FromSeconds(EtcdTimeoutSec);
}

public abstract class EtcdConnectionCmdlet : FlannelCmdlet
{
    /// <summary>etcd endpoints (default http://127.0.0.1:2379, or FLANNELD_ETCD_ENDPOINTS). -EtcdEndpoints, as flanneld spells it, works too.</summary>
    [Parameter]
    [Alias("EtcdEndpoints")]
    [ValidateNotNullOrEmpty]
    public string[]? EtcdEndpoint { get; set; }

    /// <summary>Key prefix of the network (default /coreos.com/network, or FLANNELD_ETCD_PREFIX). Keys are joined to it as
    /// flanneld joins them: coreos.com/network, without the leading slash, names other keys than /coreos.com/network.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EtcdPrefix { get; set; }

    /// <summary>CA certificate file for TLS to etcd (FLANNELD_ETCD_CAFILE).</summary>
    [Parameter]
    public string? EtcdCAFile { get; set; }

    /// <summary>Client certificate file for TLS to etcd (FLANNELD_ETCD_CERTFILE).</summary>
    [Parameter]
    public string? EtcdCertFile { get; set; }

    /// <summary>Client key file for TLS to etcd (FLANNELD_ETCD_KEYFILE).</summary>
    [Parameter]
    public string? EtcdKeyFile { get; set; }

    /// <summary>etcd user name and password (FLANNELD_ETCD_USERNAME / FLANNELD_ETCD_PASSWORD).</summary>
    [Parameter]
    [Credential]
    public PSCredential? EtcdCredential { get; set; }

    /// <summary>How long one etcd request may take.</summary>
    protected virtual TimeSpan RequestTimeout => EtcdOptions.DefaultRequestTimeout;

    protected EtcdOptions BuildEtcdOptions()
    {
        var endpoints = EtcdEndpoint ?? DefaultEndpoints();
        string? user = EtcdCredential?.UserName ?? Env("FLANNELD_ETCD_USERNAME");
        string? password = EtcdCredential is { } c ? PlainPassword(c) : Env("FLANNELD_ETCD_PASSWORD");
        return new EtcdOptions
        {
            Endpoints = endpoints.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            Prefix = EtcdPrefix ?? DefaultPrefix(),
            CAFile = ResolveOptionalPath(EtcdCAFile ?? Env("FLANNELD_ETCD_CAFILE")),
            CertFile = ResolveOptionalPath(EtcdCertFile ?? Env("FLANNELD_ETCD_CERTFILE")),
            KeyFile = ResolveOptionalPath(EtcdKeyFile ?? Env("FLANNELD_ETCD_KEYFILE")),
            Username = user,
            Password = password,
            RequestTimeout = RequestTimeout,
        };
    }

    private EtcdOptions? _invocationOptions;
    // Registries this invocation opened, one per (endpoints, prefix): the parameters' one, and one per
    // origin of the records piped in (a lease read from another prefix or cluster).
    private readonly Dictionary<string, (EtcdOptions Options, ISubnetRegistry Registry)> _registries = new(StringComparer.Ordinal);

    /// <summary>
    /// This invocation's etcd settings and registry, made on the first pipeline record and shared by the
    /// rest: piping 500 leases into Remove-FlannelSubnetLease is one etcd connection, not 500. Every
    /// etcd cmdlet gets its registry here; it connects on first use and is closed when the pipeline
    /// ends. Call on the pipeline thread (the settings read session state). The registry's warnings
    /// (a key skipped for a bad value) reach the pipeline as warning records.
    /// </summary>
    protected (EtcdOptions Options, ISubnetRegistry Registry) InvocationRegistry()
    {
        _invocationOptions ??= BuildEtcdOptions();
        return RegistryFor(_invocationOptions);
    }

    /// <summary>
    /// The registry for a record that names where it came from (its etcd endpoints and prefix): the
    /// record's origin wins over the defaults, TLS and credentials come from the parameters. An explicit
    /// -EtcdEndpoint or -EtcdPrefix that names another place is a mistake, not something to guess at:
    /// it throws FlannelPipelineOriginMismatch. Call on the pipeline thread.
    /// </summary>
    protected (EtcdOptions Options, ISubnetRegistry Registry) RegistryForOrigin(IReadOnlyList<string> endpoints, string prefix, string what)
    {
        _invocationOptions ??= BuildEtcdOptions();
        var origin = _invocationOptions with { Endpoints = [.. endpoints], Prefix = prefix };
        var bound = MyInvocation.BoundParameters;
        if (bound.ContainsKey(nameof(EtcdPrefix)) && origin.CleanPrefix != _invocationOptions.CleanPrefix)
            throw new FlannelException("FlannelPipelineOriginMismatch", FlannelErrorCategory.InvalidArgument,
                $"{what} comes from etcd prefix {origin.CleanPrefix}, not -EtcdPrefix {_invocationOptions.CleanPrefix}. Drop -EtcdPrefix, or pass -Subnet instead of piping the object.", what);
        if (bound.ContainsKey(nameof(EtcdEndpoint)) && origin.EndpointList != _invocationOptions.EndpointList)
            throw new FlannelException("FlannelPipelineOriginMismatch", FlannelErrorCategory.InvalidArgument,
                $"{what} comes from etcd at {origin.EndpointList}, not -EtcdEndpoint {_invocationOptions.EndpointList}. Drop -EtcdEndpoint, or pass -Subnet instead of piping the object.", what);
        return RegistryFor(origin);
    }

    private (EtcdOptions Options, ISubnetRegistry Registry) RegistryFor(EtcdOptions options)
    {
        var id = options.EndpointList + "|" + options.CleanPrefix;
        if (!_registries.TryGetValue(id, out var entry))
        {
            // A malformed endpoint or TLS file fails here, on the pipeline thread: map it to its own id.
            entry = (options, Checked(() => new EtcdSubnetRegistry(options, new CmdletLog(this), TimeProvider.System)));
            _registries[id] = entry;
        }
        return entry;
    }

    protected override void DisposeResources()
    {
        var registries = _registries.Values.Select(e => e.Registry).ToArray();
        _registries.Clear();
        foreach (var registry in registries) registry.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The password a PSCredential holds, as etcd's auth needs it.</summary>
    internal static string PlainPassword(PSCredential credential) => new NetworkCredential(string.Empty, credential.Password).Password;

    /// <summary>Endpoints when -EtcdEndpoint is not given: FLANNELD_ETCD_ENDPOINTS, else flannel's default.</summary>
    internal static string[] DefaultEndpoints() => EnvList("FLANNELD_ETCD_ENDPOINTS") ?? [EtcdOptions.DefaultEndpoint];

    /// <summary>Prefix when -EtcdPrefix is not given: FLANNELD_ETCD_PREFIX, else /coreos.com/network.</summary>
    internal static string DefaultPrefix() => Env("FLANNELD_ETCD_PREFIX") ?? EtcdOptions.DefaultPrefix;

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    private static string[]? EnvList(string name) => Env(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
