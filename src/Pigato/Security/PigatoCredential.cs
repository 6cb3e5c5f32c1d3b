namespace Pigato.Security;

/// <summary>
/// What a .NET client or worker presents to a broker that requires authentication, once per connection and only inside
/// the encrypted channel: a principal's name and its token (<c>pigato token</c> makes one, with the hash for the broker).
/// </summary>
/// <param name="Principal">The name in the broker's permissions file.</param>
/// <param name="Token">The secret token; the broker keeps only a salted hash of it.</param>
public sealed record PigatoCredential(string Principal, string Token)
{
    /// <inheritdoc />
    public override string ToString() => $"{Principal} (token hidden)";
}
