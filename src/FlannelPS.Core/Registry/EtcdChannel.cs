// Builds the one gRPC channel an EtcdSubnetRegistry owns: endpoint list, TLS material from files,
// no transparent retries (every call is bounded by EtcdOptions.RequestTimeout and retried by the
// caller's own policy), HTTP/2 keep-alive pings so a dead peer breaks a long watch.
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FlannelPS.Core.Errors;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FlannelPS.Core.Registry;

internal static class EtcdChannel
{
    public static GrpcChannel Create(EtcdOptions options)
    {
        if (options.Endpoints.Count == 0)
            throw new FlannelException("FlannelEtcdEndpointInvalid", FlannelErrorCategory.InvalidArgument,
                "No etcd endpoint was given. Pass -EtcdEndpoint (e.g. http://127.0.0.1:2379).", options.EndpointList);
        var tlsWanted = options.CAFile is not null || options.CertFile is not null;
        var uris = options.Endpoints.Select(e => ParseEndpoint(e, tlsWanted)).ToArray();
        var secure = uris[0].Scheme == Uri.UriSchemeHttps;
        if (uris.Any(u => (u.Scheme == Uri.UriSchemeHttps) != secure))
            throw new FlannelException("FlannelEtcdEndpointInvalid", FlannelErrorCategory.InvalidArgument,
                $"etcd endpoints mix http and https: {options.EndpointList}. Use one scheme for all of them.", options.EndpointList);

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.RequestTimeout,
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
        };
        if (secure) handler.SslOptions = BuildSsl(options, checkHostName: uris.Length == 1);

        var channelOptions = new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            // A caller's cancellation surfaces as OperationCanceledException, not RpcException(Cancelled).
            ThrowOperationCanceledOnCancellation = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            Credentials = secure ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure,
            // No RetryPolicy on purpose: a retried call could outlive RequestTimeout, and Txn/Grant
            // are not idempotent. Round robin skips endpoints whose connection failed.
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
        };

        if (uris.Length == 1)
            return GrpcChannel.ForAddress(uris[0], channelOptions);

        var addresses = uris.Select(u => new BalancerAddress(u.Host, u.Port)).ToArray();
        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses));
        channelOptions.ServiceProvider = services.BuildServiceProvider();
        return GrpcChannel.ForAddress("static:///etcd", channelOptions);
    }

    internal static Uri ParseEndpoint(string endpoint, bool tlsWanted)
    {
        var text = endpoint.Trim();
        // Without a scheme, a bare IP address (etcdctl's reading: port 2379), localhost or host:port;
        // a bare word such as "banana" is a mistake, not a host name.
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            if (!HasPort(text) && !System.Net.IPAddress.TryParse(text.Trim('[', ']'), out _) && text != "localhost")
                throw new FlannelException("FlannelEtcdEndpointInvalid", FlannelErrorCategory.InvalidArgument,
                    $"'{endpoint}' is not a valid etcd endpoint; expected http://host:port or https://host:port (or host:port).", endpoint);
            text = (tlsWanted ? "https://" : "http://") + text;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new FlannelException("FlannelEtcdEndpointInvalid", FlannelErrorCategory.InvalidArgument,
                $"'{endpoint}' is not a valid etcd endpoint; expected http://host:port or https://host:port.", endpoint);
        // "http://host" (no port) means etcd's client port, as etcdctl assumes, not 80/443.
        var authority = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..].Split('/')[0];
        if (!authority.Contains(':', StringComparison.Ordinal)) uri = new UriBuilder(uri) { Port = 2379 }.Uri;
        return uri;
    }

    private static bool HasPort(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        return colon > 0 && colon < hostPort.Length - 1 && hostPort[(colon + 1)..].All(char.IsAsciiDigit);
    }

    private static SslClientAuthenticationOptions BuildSsl(EtcdOptions options, bool checkHostName)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (options.CertFile is not null || options.KeyFile is not null)
        {
            if (options.CertFile is null || options.KeyFile is null)
                throw new FlannelException("FlannelEtcdTlsInvalid", FlannelErrorCategory.InvalidArgument,
                    "Both -EtcdCertFile and -EtcdKeyFile are needed for a client certificate.", options.CertFile ?? options.KeyFile);
            ssl.ClientCertificates = [LoadClientCertificate(options.CertFile, options.KeyFile)];
        }
        if (options.CAFile is not null)
        {
            var roots = LoadCertificates(options.CAFile);
            ssl.RemoteCertificateValidationCallback = (_, cert, _, errors) => ValidateAgainst(roots, cert, errors, checkHostName);
        }
        return ssl;
    }

    private static X509Certificate2 LoadClientCertificate(string certFile, string keyFile)
    {
        try
        {
            using var ephemeral = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            // SslStream wants a key it can hand to the TLS stack; a PKCS#12 round trip gives a persisted one.
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new FlannelException("FlannelEtcdTlsInvalid", FlannelErrorCategory.InvalidArgument,
                $"Cannot load the etcd client certificate '{certFile}' with key '{keyFile}': {ex.Message}", certFile, ex);
        }
    }

    private static X509Certificate2Collection LoadCertificates(string caFile)
    {
        try
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            if (roots.Count == 0) throw new System.Security.Cryptography.CryptographicException("no PEM certificate in the file");
            return roots;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new FlannelException("FlannelEtcdTlsInvalid", FlannelErrorCategory.InvalidArgument,
                $"Cannot load the etcd CA file '{caFile}': {ex.Message}", caFile, ex);
        }
    }

    // Trust exactly the given CA(s), as etcdctl --cacert does, instead of the system store.
    private static bool ValidateAgainst(X509Certificate2Collection roots, X509Certificate? presented, SslPolicyErrors errors, bool checkHostName)
    {
        if (presented is null) return false;
        if (checkHostName && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var cert = new X509Certificate2(presented);
        return chain.Build(cert);
    }
}
