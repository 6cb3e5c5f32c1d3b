using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pigato.Management;

/// <summary>Settings of a broker's management endpoint (<see cref="BrokerManagement"/>).</summary>
public sealed record BrokerManagementOptions
{
    /// <summary>The default address: loopback only, port 8080.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Where to listen, as an HTTP URL; port 0 picks a free one (see <see cref="BrokerManagement.Url"/>). Loopback by default.</summary>
    public string Url { get; init; } = DefaultUrl;

    /// <summary>
    /// The token every request but <c>/healthz</c> must carry (<c>Authorization: Bearer</c>, or <c>?token=</c> once for the
    /// dashboard, which then keeps it in a cookie). Null: none, unless the broker requires authentication, in which case a
    /// random one is made and logged at start.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>How often the endpoint samples the broker (rates, charts, the event stream).</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How many minutes of samples the charts can show (<c>/api/history</c>).</summary>
    public TimeSpan History { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Most services, workers and clients listed in <c>/api/stats</c> (the busiest first).</summary>
    public int MaxEntries { get; init; } = 1000;

    /// <summary>Where the endpoint logs its address and failures.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// The URL for an address as given on a command line: <c>8080</c> or <c>:8080</c> (loopback), <c>host:port</c>, or a
    /// full <c>http://</c> URL.
    /// </summary>
    /// <exception cref="ArgumentException">The address is not one of those forms.</exception>
    public static string UrlOf(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        if (address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return Uri.TryCreate(address, UriKind.Absolute, out _) ? address : throw Invalid(address);
        }

        var colon = address.LastIndexOf(':');
        var host = colon < 0 ? "" : address[..colon];
        var port = colon < 0 ? address : address[(colon + 1)..];
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > 65535)
        {
            throw Invalid(address);
        }

        return string.Create(CultureInfo.InvariantCulture, $"http://{(host.Length == 0 ? "127.0.0.1" : host)}:{number}");
    }

    private static ArgumentException Invalid(string address) =>
        new($"'{address}' is not an HTTP address: use PORT, HOST:PORT or http://HOST:PORT.", nameof(address));

    internal void Validate()
    {
        _ = UrlOf(Url);
        ArgumentOutOfRangeException.ThrowIfLessThan(SampleInterval, TimeSpan.FromMilliseconds(100), nameof(SampleInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(History, SampleInterval, nameof(History));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxEntries, nameof(MaxEntries));
        if (Token is { Length: < 16 })
        {
            throw new ArgumentException("The management token must be at least 16 characters.", nameof(Token));
        }
    }
}
