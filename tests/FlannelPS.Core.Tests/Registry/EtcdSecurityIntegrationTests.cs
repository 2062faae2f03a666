// TLS (CA, client certificate and key files) and username/password against private etcd servers.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Net;
using FlannelPS.Core.Registry;
using FlannelPS.Core.Subnet;

namespace FlannelPS.Core.Tests.Registry;

public sealed class EtcdSecurityIntegrationTests
{
    private const string Seed = """{"NetWork":"10.0.0.0/16"}""";

    [Fact]
    public async Task Tls_with_ca_and_client_certificate_files_works_and_is_enforced()
    {
        var dir = Directory.CreateTempSubdirectory("fpreg-tls-").FullName;
        var pki = Pki.Write(dir);
        using var etcd = PrivateEtcd.Start(dir, (pki.ServerCert, pki.ServerKey, pki.Ca));

        var good = new EtcdOptions { Endpoints = [etcd.ClientUrl], CAFile = pki.Ca, CertFile = pki.ClientCert, KeyFile = pki.ClientKey, RequestTimeout = TimeSpan.FromSeconds(3) };
        await using (var registry = new EtcdSubnetRegistry(good))
        {
            await registry.PutNetworkConfigAsync(Seed, default);
            Assert.Equal(Seed, await registry.GetNetworkConfigAsync(default));
            var lease = await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.8.0/24"), new LeaseAttrs(Ip4.Parse("192.0.2.8")), TimeSpan.FromHours(1), default);
            Assert.NotNull(lease);
        }

        // No client certificate: the server (client-cert-auth) refuses the handshake.
        await using (var registry = new EtcdSubnetRegistry(good with { CertFile = null, KeyFile = null }))
            await Assert.ThrowsAsync<EtcdUnavailableException>(() => registry.GetNetworkConfigAsync(default));

        // A CA that did not sign the server certificate: we refuse the server.
        var otherCa = Pki.Write(Directory.CreateDirectory(Path.Combine(dir, "other")).FullName).Ca;
        await using (var registry = new EtcdSubnetRegistry(good with { CAFile = otherCa }))
            await Assert.ThrowsAsync<EtcdUnavailableException>(() => registry.GetNetworkConfigAsync(default));

        // A missing key file is a clear argument error, not a hang or a crash later.
        var ex = Assert.Throws<FlannelException>(() => new EtcdSubnetRegistry(good with { KeyFile = Path.Combine(dir, "nope.pem") }));
        Assert.Equal("FlannelEtcdTlsInvalid", ex.ErrorId);
    }

    [Fact]
    public async Task Username_and_password_are_used_and_a_wrong_password_is_a_clear_error()
    {
        var dir = Directory.CreateTempSubdirectory("fpreg-auth-").FullName;
        using var etcd = PrivateEtcd.Start(dir);
        etcd.Etcdctl("user", "add", "root:s3cret");
        etcd.Etcdctl("auth", "enable");

        var options = new EtcdOptions { Endpoints = [etcd.ClientUrl], Username = "root", Password = "s3cret", RequestTimeout = TimeSpan.FromSeconds(3) };
        await using (var registry = new EtcdSubnetRegistry(options))
        {
            await registry.PutNetworkConfigAsync(Seed, default);
            Assert.Equal(Seed, await registry.GetNetworkConfigAsync(default));
            Assert.NotNull(await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.9.0/24"), new LeaseAttrs(Ip4.Parse("192.0.2.9")), TimeSpan.FromHours(1), default));
            var change = await FirstChangeAsync(registry);
            Assert.Equal(LeaseChangeKind.Put, change.Kind);
            Assert.Equal(Ip4Net.Parse("10.0.9.0/24"), change.Subnet);
        }
        Assert.Contains("192.0.2.9", etcd.Etcdctl("--user=root:s3cret", "get", "--print-value-only", "/coreos.com/network/subnets/10.0.9.0-24"));

        await using (var registry = new EtcdSubnetRegistry(options with { Password = "wrong" }))
        {
            var ex = await Assert.ThrowsAsync<FlannelException>(() => registry.GetNetworkConfigAsync(default));
            Assert.Equal("FlannelEtcdAuthFailed", ex.ErrorId);
            Assert.Contains("root", ex.Message);
        }

        await using (var registry = new EtcdSubnetRegistry(options with { Username = null, Password = null }))
        {
            var ex = await Assert.ThrowsAsync<FlannelException>(() => registry.GetNetworkConfigAsync(default));
            Assert.NotEqual("FlannelEtcdUnavailable", ex.ErrorId);
        }
    }

    [Fact]
    public async Task A_watch_opened_after_the_login_token_expired_logs_in_again()
    {
        var dir = Directory.CreateTempSubdirectory("fpreg-ttl-").FullName;
        using var etcd = PrivateEtcd.Start(dir, null, "--auth-token-ttl", "1");
        etcd.Etcdctl("user", "add", "root:s3cret");
        etcd.Etcdctl("auth", "enable");
        var options = new EtcdOptions { Endpoints = [etcd.ClientUrl], Username = "root", Password = "s3cret", RequestTimeout = TimeSpan.FromSeconds(3) };
        await using var registry = new EtcdSubnetRegistry(options);
        Assert.NotNull(await registry.CreateLeaseAsync(Ip4Net.Parse("10.0.9.0/24"), new LeaseAttrs(Ip4.Parse("192.0.2.9")), TimeSpan.FromHours(1), default));
        await Task.Delay(TimeSpan.FromSeconds(3)); // the token the registry holds is now expired on the server
        var change = await FirstChangeAsync(registry);
        Assert.Equal(Ip4Net.Parse("10.0.9.0/24"), change.Subnet);
    }

    // Opening a watch with auth must work too (the stream carries the token): replay the last write.
    private static async Task<LeaseChange> FirstChangeAsync(ISubnetRegistry registry)
    {
        var snap = await registry.GetLeasesAsync(default);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await foreach (var change in registry.WatchLeasesAsync(snap.Revision - 1, cts.Token)) return change;
        throw new Xunit.Sdk.XunitException("the watch ended without a change");
    }

    /// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.</summary>
    private sealed record Pki(string Ca, string ServerCert, string ServerKey, string ClientCert, string ClientKey)
    {
        public static Pki Write(string dir)
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caReq = new CertificateRequest("CN=fpreg test CA", caKey, HashAlgorithmName.SHA256);
            caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            var now = DateTimeOffset.UtcNow;
            using var ca = caReq.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));

            (string, string) Leaf(string name, bool server)
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
                req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
                req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                    [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
                var san = new SubjectAlternativeNameBuilder();
                san.AddIpAddress(System.Net.IPAddress.Loopback);
                san.AddDnsName("localhost");
                req.CertificateExtensions.Add(san.Build());
                using var cert = req.Create(ca, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
                var certPath = Path.Combine(dir, name + ".pem");
                var keyPath = Path.Combine(dir, name + "-key.pem");
                File.WriteAllText(certPath, cert.ExportCertificatePem());
                File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
                return (certPath, keyPath);
            }

            var caPath = Path.Combine(dir, "ca.pem");
            File.WriteAllText(caPath, ca.ExportCertificatePem());
            var (sc, sk) = Leaf("server", server: true);
            var (cc, ck) = Leaf("client", server: false);
            return new Pki(caPath, sc, sk, cc, ck);
        }
    }
}
