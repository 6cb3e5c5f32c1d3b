using System.Globalization;

namespace Pigato.Examples;

/// <summary>
/// The <c>stocks</c> example service: for a ticker and a date range it streams one partial reply per
/// daily quote, then a final reply with the number of quotes sent.
/// </summary>
/// <remarks>The quotes (AAPL, MSFT, GOOG, January to March 2015) are synthetic, shipped in the assembly.</remarks>
public static class StocksService
{
    /// <summary>The service name of the example.</summary>
    public const string Name = "stocks";

    private static readonly Lazy<IReadOnlyList<Quote>> Quotes = new(Load);

    /// <summary>Every quote shipped with the example.</summary>
    public static IReadOnlyList<Quote> All => Quotes.Value;

    /// <summary>The handler: data <c>{"ticker":"AAPL","from":"2015-01-01","to":"2015-01-31"}</c> (dates optional).</summary>
    public static async ValueTask HandleAsync(QuoteQuery? query, WorkerReply reply, System.Text.Json.JsonElement options)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (query?.Ticker is not { Length: > 0 } ticker)
        {
            await reply.ErrorAsync("ERR_NO_TICKER").ConfigureAwait(false);
            return;
        }

        var rows = All.Where(q => string.Equals(q.Ticker, ticker, StringComparison.OrdinalIgnoreCase)
            && (query.From is null || q.Date >= query.From) && (query.To is null || q.Date <= query.To)).ToList();
        if (rows.Count == 0 && !All.Any(q => string.Equals(q.Ticker, ticker, StringComparison.OrdinalIgnoreCase)))
        {
            await reply.ErrorAsync("ERR_UNKNOWN_TICKER").ConfigureAwait(false);
            return;
        }

        foreach (var row in rows)
        {
            if (reply.CancellationToken.IsCancellationRequested)
            {
                return; // the client lost interest (no more request heartbeats): stop streaming
            }

            await reply.WriteAsync(row).ConfigureAwait(false);
        }

        await reply.EndAsync(rows.Count).ConfigureAwait(false);
    }

    private static List<Quote> Load()
    {
        using var stream = typeof(StocksService).Assembly.GetManifestResourceStream("Pigato.Examples.quotes.csv")
            ?? throw new InvalidOperationException("quotes.csv is missing from the assembly.");
        using var reader = new StreamReader(stream);
        var quotes = new List<Quote>();
        reader.ReadLine(); // header
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            var f = line.Split(',');
            var inv = CultureInfo.InvariantCulture;
            quotes.Add(new Quote(f[0], DateOnly.Parse(f[1], inv), decimal.Parse(f[2], inv), decimal.Parse(f[3], inv), decimal.Parse(f[4], inv), decimal.Parse(f[5], inv), long.Parse(f[6], inv)));
        }

        return quotes;
    }
}

/// <summary>A request to the stocks service.</summary>
/// <param name="Ticker">The ticker, e.g. AAPL.</param>
/// <param name="From">First day included, if any.</param>
/// <param name="To">Last day included, if any.</param>
public sealed record QuoteQuery(string? Ticker, DateOnly? From = null, DateOnly? To = null);

/// <summary>One daily quote.</summary>
/// <param name="Ticker">The ticker.</param>
/// <param name="Date">The trading day.</param>
/// <param name="Open">Opening price.</param>
/// <param name="High">Highest price.</param>
/// <param name="Low">Lowest price.</param>
/// <param name="Close">Closing price.</param>
/// <param name="Volume">Shares traded.</param>
public sealed record Quote(string Ticker, DateOnly Date, decimal Open, decimal High, decimal Low, decimal Close, long Volume);
