namespace Pigato.Internal.Links.Curve;

/// <summary>
/// The CURVE keys of one side of Pigato's own transport: a server holds its long-term key pair; a client holds the
/// server's public key and a key pair of its own, made for the link (as NetMQ and libzmq make one for a client that
/// sets none: the broker authenticates with tokens, not client keys).
/// </summary>
internal sealed class CurveSettings
{
    private CurveSettings(byte[] publicKey, byte[] secretKey, byte[]? serverKey)
    {
        PublicKey = publicKey;
        SecretKey = secretKey;
        ServerKey = serverKey;
    }

    public byte[] PublicKey { get; }

    public byte[] SecretKey { get; }

    /// <summary>The server's public key on a client's side; null on the server's.</summary>
    public byte[]? ServerKey { get; }

    public bool AsServer => ServerKey is null;

    /// <summary>A server's settings from its Z85 secret key.</summary>
    public static CurveSettings Server(string secretKey)
    {
        var certificate = Security.CurveKeys.Certificate(secretKey);
        return new CurveSettings(certificate.PublicKey, certificate.SecretKey!, null);
    }

    /// <summary>A client's settings for a server's Z85 public key, with a key pair of its own.</summary>
    public static CurveSettings Client(string serverKey)
    {
        var publicKey = new byte[Sodium.KeyBytes];
        var secretKey = new byte[Sodium.KeyBytes];
        Sodium.KeyPair(publicKey, secretKey);
        return new CurveSettings(publicKey, secretKey, Security.CurveKeys.PublicKeyBytes(serverKey));
    }

    /// <summary>The handshake of a new connection, with our properties to send.</summary>
    public CurveHandshake NewHandshake(byte[] metadata) => ServerKey is null
        ? new CurveServerHandshake(PublicKey, SecretKey, metadata)
        : new CurveClientHandshake(ServerKey, PublicKey, SecretKey, metadata);
}
