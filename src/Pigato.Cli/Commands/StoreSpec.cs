using Pigato.Persistence;

namespace Pigato.Cli.Commands;

/// <summary>The broker's <c>--store</c>: <c>sqlite:PATH</c> or <c>redis:HOST:PORT</c>.</summary>
internal static class StoreSpec
{
    private const string Usage = "Use sqlite:PATH (a file) or redis:HOST:PORT.";

    /// <summary>The store named by <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentException">The specification names no known store, or a malformed address.</exception>
    public static RequestStoreFactory Parse(string spec)
    {
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? spec : spec[..colon];
        var address = colon < 0 ? "" : spec[(colon + 1)..];
        if (kind is not ("sqlite" or "redis"))
        {
            throw new ArgumentException($"Unknown request store '{spec}'. {Usage}", nameof(spec));
        }

        if (address.Length == 0)
        {
            throw new ArgumentException($"The request store '{spec}' names no {(kind == "sqlite" ? "file" : "server")}. {Usage}", nameof(spec));
        }

        try
        {
            return kind == "sqlite" ? SqliteRequestStore.At(address) : RedisRequestStore.At(address);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{e.Message} {Usage}", nameof(spec), e);
        }
    }
}
