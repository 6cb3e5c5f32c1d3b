using System.Text;
using System.Text.RegularExpressions;
using NetMQ;

namespace Pigato.Security;

/// <summary>
/// CURVE key pairs and their files, in ZeroMQ's certificate format (<c>name.key</c> with the public key,
/// <c>name.key_secret</c> with both, readable by its owner only). Keys are Z85 text, 40 characters.
/// </summary>
public static partial class CurveKeys
{
    /// <summary>A new key pair: (public, secret), Z85.</summary>
    public static (string PublicKey, string SecretKey) Generate()
    {
        var certificate = new NetMQCertificate();
        return (certificate.PublicKeyZ85, certificate.SecretKeyZ85!);
    }

    /// <summary>The public key of a secret key (Z85).</summary>
    /// <exception cref="ArgumentException">The text is not a Z85 CURVE key.</exception>
    public static string PublicKeyOf(string secretKey) => Certificate(secretKey).PublicKeyZ85;

    /// <summary>Writes <c>{path}.key</c> (public) and <c>{path}.key_secret</c> (secret, owner-only permissions); returns the public key.</summary>
    public static string WriteKeyPair(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var (publicKey, secretKey) = Generate();
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(path + ".key", $"#   ****  Generated on {now} by pigato keygen  ****\n#   ZeroMQ CURVE Public Certificate\n#   Exchange securely, or use a secure mechanism to verify the contents\n#   of this file after exchange. Store public certificates in your home\n#   directory, in the .curve subdirectory.\n\nmetadata\ncurve\n    public-key = \"{publicKey}\"\n");
        var secretPath = path + ".key_secret";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var secret = new StreamWriter(secretPath, Encoding.ASCII, options))
        {
            secret.Write($"#   ****  Generated on {now} by pigato keygen  ****\n#   ZeroMQ CURVE **Secret** Certificate\n#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\nmetadata\ncurve\n    public-key = \"{publicKey}\"\n    secret-key = \"{secretKey}\"\n");
        }

        return publicKey;
    }

    /// <summary>Reads the public key of a certificate file (<c>.key</c> or <c>.key_secret</c>).</summary>
    /// <exception cref="PigatoException">The file is missing or holds no valid key (<c>ERR_CURVE_KEY</c>).</exception>
    public static string ReadPublicKey(string path) => Read(path, "public-key");

    /// <summary>Reads the secret key of a <c>.key_secret</c> certificate file.</summary>
    /// <exception cref="PigatoException">The file is missing or holds no valid secret key (<c>ERR_CURVE_KEY</c>).</exception>
    public static string ReadSecretKey(string path) => Read(path, "secret-key");

    internal static NetMQCertificate Certificate(string secretKey)
    {
        try
        {
            return NetMQCertificate.CreateFromSecretKey(secretKey);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException)
        {
            throw new ArgumentException("Not a Z85 CURVE secret key (40 characters).", nameof(secretKey), e);
        }
    }

    internal static byte[] PublicKeyBytes(string publicKey)
    {
        try
        {
            return NetMQCertificate.FromPublicKey(publicKey).PublicKey;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException)
        {
            throw new ArgumentException("Not a Z85 CURVE public key (40 characters).", nameof(publicKey), e);
        }
    }

    private static string Read(string path, string field)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PigatoException(PigatoErrorCodes.CurveKey, $"Cannot read the key file '{path}': {e.Message}", e);
        }

        var match = KeyLine().Matches(text).FirstOrDefault(m => m.Groups[1].Value == field);
        if (match is null || match.Groups[2].Value.Length != 40)
        {
            throw new PigatoException(PigatoErrorCodes.CurveKey, $"The key file '{path}' has no valid {field} (a ZeroMQ certificate with {field} = \"<40 Z85 characters>\").");
        }

        return match.Groups[2].Value;
    }

    [GeneratedRegex("^\\s*(public-key|secret-key)\\s*=\\s*\"([^\"]*)\"", RegexOptions.Multiline)]
    private static partial Regex KeyLine();
}
