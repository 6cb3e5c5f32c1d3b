using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Pigato.Perf.Runner;

/// <summary>
/// The certificate nats-server presents in the <c>nats-tls</c> system: a self-signed ECDSA P-256 certificate for
/// 127.0.0.1, made once per run in a temporary directory; the NATS clients and responders trust it as their CA.
/// </summary>
internal static class NatsTlsCertificate
{
    private static readonly Lazy<(string CertFile, string KeyFile)> Files = new(Make);

    /// <summary>The certificate, PEM (nats-server's <c>--tlscert</c>, the clients' CA file).</summary>
    public static string CertFile => Files.Value.CertFile;

    /// <summary>Its private key, PEM (nats-server's <c>--tlskey</c>).</summary>
    public static string KeyFile => Files.Value.KeyFile;

    private static (string, string) Make()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        var directory = Directory.CreateTempSubdirectory("pigato-bench-tls-").FullName;
        var certFile = Path.Combine(directory, "cert.pem");
        var keyFile = Path.Combine(directory, "key.pem");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }
}
