namespace Pigato.Persistence;

/// <summary>Reads a store specification (<see cref="BrokerOptions.Store"/>) and makes the store it names.</summary>
internal static class RequestStores
{
    private const string Usage = "Use sqlite:PATH (a file) or redis:HOST:PORT.";

    /// <summary>The kind (<c>sqlite</c> or <c>redis</c>) and its address.</summary>
    /// <exception cref="ArgumentException">The specification names no known store.</exception>
    public static (string Kind, string Address) Parse(string spec)
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

        if (kind == "redis" && !System.Text.RegularExpressions.Regex.IsMatch(address, @"^[^:\s]+:\d{1,5}$"))
        {
            throw new ArgumentException($"The request store '{spec}' is not redis:HOST:PORT. {Usage}", nameof(spec));
        }

        return (kind, address);
    }

    /// <summary>The store named by <paramref name="spec"/>, not yet opened; <paramref name="brokerName"/> is the broker's claim in a shared one.</summary>
    public static IRequestStore Create(string spec, string brokerName, TimeSpan lease)
    {
        var (kind, address) = Parse(spec);
        return kind == "sqlite" ? new SqliteRequestStore(address) : new RedisRequestStore(address, brokerName, lease);
    }
}
