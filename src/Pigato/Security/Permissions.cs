using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pigato.Security;

/// <summary>
/// Who may request and who may serve which services: principals with a token hash and two lists of service patterns,
/// read from a JSON file (see README, Security). The principal <see cref="Anonymous"/> stands for peers without a
/// credential (PIGATO for Node.js peers among them): no rights unless it is listed.
/// </summary>
/// <remarks>
/// A pattern is a service name (<c>billing</c>, which also covers its versions <c>billing@1.2.3</c> and ranges
/// <c>billing@^1</c>), a prefix wildcard (<c>billing*</c>), or <c>*</c> for every service. Tokens are random
/// 256-bit secrets, so a salted SHA-256 of each is kept, never the token itself.
/// </remarks>
public sealed class Permissions
{
    /// <summary>The principal of peers that present no credential.</summary>
    public const string Anonymous = "anonymous";

    private readonly Dictionary<string, Principal> _principals;

    private Permissions(Dictionary<string, Principal> principals) => _principals = principals;

    /// <summary>Reads a permissions file.</summary>
    /// <exception cref="PigatoException">The file cannot be read or is not a valid permissions file (<c>ERR_PERMISSIONS</c>), naming it.</exception>
    public static Permissions Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException)
        {
            throw new PigatoException(PigatoErrorCodes.PermissionsInvalid, $"The permissions file '{path}' cannot be used: {e.Message}", e);
        }
    }

    /// <summary>Reads permissions from JSON text: <c>{"principals": {"name": {"tokenHash": "...", "request": [...], "serve": [...]}}}</c>.</summary>
    /// <exception cref="JsonException">The text is not a permissions object.</exception>
    public static Permissions Parse(string json)
    {
        var file = JsonSerializer.Deserialize(json, PermissionsJson.Default.PermissionsFile) ?? throw new JsonException("The permissions file is empty.");
        var principals = new Dictionary<string, Principal>(StringComparer.Ordinal);
        foreach (var (name, entry) in file.Principals ?? [])
        {
            if (entry.Token is not null)
            {
                throw new JsonException($"Principal '{name}' has a plaintext \"token\": the file keeps only a token's hash. Replace it with the \"tokenHash\" that `pigato token` prints for it, and keep the token with the peer.");
            }

            if (name != Anonymous && entry.TokenHash is null)
            {
                throw new JsonException($"Principal '{name}' has no tokenHash (only '{Anonymous}' may go without one).");
            }

            if (entry.Weight is < 1 or > MaxWeight)
            {
                throw new JsonException($"Principal '{name}' has a weight of {entry.Weight}: a weight is from 1 to {MaxWeight} (turns in a row when its requests wait with others').");
            }

            principals[name] = new Principal(name, entry.TokenHash is null ? null : TokenHash.Parse(entry.TokenHash), entry.Request ?? [], entry.Serve ?? [], entry.Weight ?? 1);
        }

        return new Permissions(principals);
    }

    /// <summary>The principal a credential proves, or null when the name is unknown or the token does not match.</summary>
    public string? Authenticate(string principal, string token) =>
        _principals.TryGetValue(principal, out var entry) && entry.Hash is { } hash && hash.Matches(token) ? principal : null;

    /// <summary>
    /// How many turns in a row the requests of <paramref name="principal"/> get when they wait with others' for a service
    /// (fair queuing): its <c>"weight"</c> in the file, 1 by default and for principals not listed.
    /// </summary>
    public int WeightOf(string principal) => _principals.TryGetValue(principal, out var p) ? p.Weight : 1;

    /// <summary>The largest weight a principal may have.</summary>
    public const int MaxWeight = 100;

    /// <summary>True when <paramref name="principal"/> may request <paramref name="service"/>.</summary>
    public bool MayRequest(string principal, string service) => _principals.TryGetValue(principal, out var p) && Allows(p.Request, service);

    /// <summary>True when <paramref name="principal"/> may serve <paramref name="service"/> (register a worker for it).</summary>
    public bool MayServe(string principal, string service) => _principals.TryGetValue(principal, out var p) && Allows(p.Serve, service);

    /// <summary>A new random token and the <c>tokenHash</c> line of the permissions file that accepts it.</summary>
    public static (string Token, string TokenHash) NewToken()
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (token, Security.TokenHash.Create(token).ToString());
    }

    /// <summary>Whether one of the patterns covers the service name.</summary>
    internal static bool Allows(IReadOnlyList<string> patterns, string service)
    {
        var baseName = service.IndexOf('@', StringComparison.Ordinal) is var at and > 0 ? service[..at] : service;
        foreach (var pattern in patterns)
        {
            if (pattern == "*"
                || pattern == service
                || pattern == baseName
                || (pattern.EndsWith('*') && service.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Principal(string Name, TokenHash? Hash, IReadOnlyList<string> Request, IReadOnlyList<string> Serve, int Weight);
}

/// <summary>A salted SHA-256 of a token: <c>sha256$salt$hash</c> (both base64).</summary>
internal sealed record TokenHash(byte[] Salt, byte[] Hash)
{
    public static TokenHash Create(string token)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return new TokenHash(salt, Compute(salt, token));
    }

    public static TokenHash Parse(string text)
    {
        var parts = text.Split('$');
        if (parts is not ["sha256", var salt, var hash])
        {
            throw new FormatException($"'{text}' is not a tokenHash (sha256$salt$hash, from pigato token).");
        }

        return new TokenHash(Convert.FromBase64String(salt), Convert.FromBase64String(hash));
    }

    public bool Matches(string token) => CryptographicOperations.FixedTimeEquals(Compute(Salt, token), Hash);

    public override string ToString() => $"sha256${Convert.ToBase64String(Salt)}${Convert.ToBase64String(Hash)}";

    private static byte[] Compute(byte[] salt, string token) => SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(token)]);
}

/// <summary>The permissions file's shape.</summary>
internal sealed record PermissionsFile(Dictionary<string, PrincipalEntry>? Principals);

/// <summary>One principal in the permissions file; <paramref name="Token"/> is read only to refuse a token kept in plain text.</summary>
internal sealed record PrincipalEntry(string? TokenHash, string[]? Request, string[]? Serve, string? Token = null, int? Weight = null);

/// <summary>Source-generated reading of the permissions file.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PermissionsFile))]
internal sealed partial class PermissionsJson : JsonSerializerContext;
