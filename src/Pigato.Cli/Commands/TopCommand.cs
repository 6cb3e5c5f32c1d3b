using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Pigato.Management;
using Spectre.Console;

namespace Pigato.Cli.Commands;

/// <summary>
/// <c>pigato top</c>: the dashboard's live view in a terminal, read from a broker's management endpoint
/// (<c>pigato broker --http</c>) once a second: rates, latency, services, the busiest workers, errors by code.
/// </summary>
internal static class TopCommand
{
    private const int RateHistory = 60;
    private const string Bars = "▁▂▃▄▅▆▇█";

    public static Command Create()
    {
        var http = new Option<string>("--http") { Description = "The broker's management endpoint: PORT, HOST:PORT or http://HOST:PORT.", DefaultValueFactory = _ => BrokerManagementOptions.DefaultUrl };
        var token = new Option<string?>("--token") { Description = "The endpoint's token, when the broker requires authentication (also PIGATO_HTTP_TOKEN)." };
        var interval = Cli.DurationOption("--interval", "Time between refreshes", TimeSpan.FromSeconds(1));
        var once = new Option<bool>("--once") { Description = "Print one view and exit (no live display): for scripts and logs." };
        var rows = Cli.CountOption("--rows", "Most services and workers listed.", 15);
        var command = new Command("top", "Watch a broker live in the terminal (reads its management endpoint: pigato broker --http).") { http, token, interval, once, rows };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string url;
            try
            {
                url = BrokerManagementOptions.UrlOf(parse.GetValue(http)!);
            }
            catch (ArgumentException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: " + e.Message);
                return PigatoCli.UsageError;
            }

            using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
            if ((parse.GetValue(token) ?? Environment.GetEnvironmentVariable("PIGATO_HTTP_TOKEN")) is { Length: > 0 } secret)
            {
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            }

            var output = parse.InvocationConfiguration.Output;
            var live = !parse.GetValue(once);
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = live ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = live ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = live ? InteractionSupport.Detect : InteractionSupport.No,
            });
            var view = new TopView(parse.GetValue(rows));
            var first = await FetchAsync(client, url, cancellationToken);
            if (first.Error is { } error)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: " + error);
                return 1;
            }

            if (!live)
            {
                console.Write(view.Render(first.Document!, null));
                return 0;
            }

            await console.Live(view.Render(first.Document!, null)).StartAsync(async context =>
            {
                using var timer = new PeriodicTimer(parse.GetValue(interval));
                try
                {
                    while (await timer.WaitForNextTickAsync(cancellationToken))
                    {
                        var next = await FetchAsync(client, url, cancellationToken);
                        context.UpdateTarget(next.Document is { } document ? view.Render(document, null) : view.Render(null, next.Error));
                    }
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C: leave the last view on screen.
                }
            });
            return 0;
        });
        return command;
    }

    private static async Task<(StatsDocument? Document, string? Error)> FetchAsync(HttpClient client, string url, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync("/api/stats", cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return (null, $"{url} requires a token: pass --token (printed by the broker at start) or set PIGATO_HTTP_TOKEN.");
            }

            if (!response.IsSuccessStatusCode)
            {
                return (null, $"{url}/api/stats answered {(int)response.StatusCode} {response.ReasonPhrase}: is the broker running?");
            }

            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return (JsonSerializer.Deserialize(body, ManagementJsonContext.Default.StatsDocument), null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException { CancellationToken.IsCancellationRequested: false } or JsonException)
        {
            return (null, $"cannot read {url}/api/stats ({e.Message}): is a broker running with --http there?");
        }
    }

    /// <summary>Builds the view; keeps the last minute of request rates for the sparkline.</summary>
    private sealed class TopView(int rows)
    {
        private readonly Queue<double> _rates = new();
        private StatsDocument? _last;

        public Rows Render(StatsDocument? document, string? error)
        {
            if (document is null)
            {
                var problem = new Markup($"[red]{Markup.Escape(error ?? "no data")}[/] (retrying)");
                return _last is null ? new Rows(problem) : new Rows(problem, Render(_last));
            }

            if (document.Rates is { } rates && (_last?.Rates is null || _last.Rates.Time != rates.Time))
            {
                _rates.Enqueue(rates.Received);
                while (_rates.Count > RateHistory)
                {
                    _rates.Dequeue();
                }
            }

            _last = document;
            return Render(document);
        }

        private Rows Render(StatsDocument d)
        {
            var r = d.Rates;
            var uptime = d.TakenAt - d.StartedAt;
            var header = new Markup(
                $"[bold]Pigato broker[/] {Markup.Escape(d.Broker)} · up {Uptime(uptime)} · {(d.Limits.Store is { } store ? "store " + Markup.Escape(store) : "no store")}{(d.Limits.RequiresAuthentication ? " · authentication on" : "")}\n" +
                $"[bold]{N(r?.Received)}[/] req/s  p50 {N(r?.P50Ms)} ms  p99 {N(r?.P99Ms)} ms  errors/s {N(r?.Errors)}   " +
                $"queued {N(d.Stats.QueuedRequests)}  in flight {N(d.Stats.InFlightRequests)}  workers {N(d.Stats.Workers)}  clients {N(d.Stats.Clients)}  " +
                $"held {Bytes(d.Stats.HeldBytes)} of {Bytes(d.Limits.MaxHeldBytes)}  refused {N(d.Counters.Refused)}  slow consumers {N(d.Counters.SlowConsumers)}\n" +
                $"req/s, last minute: {Sparkline()}");

            var services = new Table().Border(TableBorder.Simple).Title("services").AddColumns("SERVICE", "QUEUED", "IN FLIGHT", "WORKERS", "SERVED");
            foreach (var s in d.Services.Take(rows))
            {
                services.AddRow(Markup.Escape(s.Name), N(s.Queued), N(s.InFlight), N(s.Workers), N(s.Served));
            }

            var workers = new Table().Border(TableBorder.Simple).Title("workers (busiest first)").AddColumns("WORKER", "SERVICE", "LOAD", "SERVED", "ERRORS", "AVG MS", "P99 MS", "LAST ERROR");
            foreach (var w in d.Workers.Take(rows))
            {
                workers.AddRow(Markup.Escape(Shorten(w.Id, 28)), Markup.Escape(w.Service), $"{w.InFlight}/{(w.Concurrency < 0 ? "∞" : N(w.Concurrency))}", N(w.Served), N(w.Errors), N(w.AverageMs), N(w.P99Ms), Markup.Escape(Shorten(w.LastError ?? "", 40)));
            }

            var errors = d.Counters.Errors.Count == 0 ? "none" : string.Join("  ", d.Counters.Errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key} {N(e.Value)}"));
            return new Rows(header, services, workers, new Markup("errors by code: " + Markup.Escape(errors)));
        }

        private string Sparkline()
        {
            if (_rates.Count == 0)
            {
                return "(after the next sample)";
            }

            var max = Math.Max(1, _rates.Max());
            return string.Concat(_rates.Select(rate => Bars[(int)Math.Round(rate / max * (Bars.Length - 1))])) + $" (max {N(_rates.Max())})";
        }
    }

    private static string N(double? value) => value is { } v ? v.ToString("#,0.#", CultureInfo.InvariantCulture) : "–";

    private static string Bytes(long value) => value >= 1 << 20 ? $"{value / 1048576.0:0.#} MiB" : value >= 1 << 10 ? $"{value / 1024.0:0.#} KiB" : $"{value} B";

    private static string Uptime(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m {t.Seconds}s" : $"{t.Seconds}s";

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
