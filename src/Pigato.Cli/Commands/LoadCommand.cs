using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pigato.Cli.Commands;

/// <summary>
/// <c>pigato load</c>: sends N requests (or as many as fit in a duration) with at most W in flight through one client,
/// shows progress each second and prints a summary (text, or one JSON object); exit 0 only when every request sent got
/// a successful final reply.
/// </summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var service = new Argument<string>("service") { Description = "The service to ask." };
        var data = new Argument<string?>("json-data") { Description = "Request data as JSON; text that is not JSON is sent as a string.", Arity = ArgumentArity.ZeroOrOne };
        var requests = Cli.CountOption("--requests", "How many requests to send.", 10_000);
        var inFlight = Cli.CountOption("--in-flight", "Most requests pending at once.", 100);
        var retry = new Option<bool>("--retry") { Description = "Send the requests with retry (resent to another broker or worker when theirs is lost)." };
        var persist = new Option<bool>("--persist") { Description = "Send the requests with persist." };
        var failWithoutWorkers = new Option<bool>("--fail-without-workers") { Description = "Requests fail at once with ERR_NO_WORKERS when no worker offers the service." };
        var timeout = Cli.DurationOption("--timeout", "Time without a reply before a request times out", TimeSpan.FromSeconds(30));
        var duration = Cli.DurationOption("--duration", "Stop sending after this long, then wait for the replies of those sent; 0: send all --requests", TimeSpan.Zero);
        var broker = Cli.BrokerOption();
        var curve = Cli.CurveServerOption();
        var credentialOptions = Cli.CredentialOptions();
        var heartbeat = Cli.HeartbeatOptions();
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object on stdout." };

        var command = new Command("load", "Send many requests with a bounded number in flight and report throughput, latency and errors.")
        {
            service, data, requests, inFlight, duration, retry, persist, failWithoutWorkers, timeout, broker, heartbeat.Period, heartbeat.Liveness, json, curve, credentialOptions.Principal, credentialOptions.TokenFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!Cli.TryCurveServerKey(parse, curve, out var curveKey) || !Cli.TryCredential(parse, credentialOptions, out var credential))
            {
                return 1;
            }

            var options = new RequestOptions { Retry = parse.GetValue(retry), Persist = parse.GetValue(persist), Timeout = parse.GetValue(timeout), FailWithoutWorkers = parse.GetValue(failWithoutWorkers) ? true : null };
            var run = new LoadRun(parse.GetValue(service)!, RequestCommand.AsJson(parse.GetValue(data)), parse.GetValue(requests), parse.GetValue(inFlight), parse.GetValue(duration), options);
            using var logging = Cli.Logging(verbose: false, toStandardError: true);
            await using var client = new Client(new ClientOptions
            {
                Endpoints = parse.GetValue(broker)!,
                CurveServerKey = curveKey,
                Credential = credential,
                MaxPendingRequests = Math.Max(ClientOptions.Default.MaxPendingRequests, parse.GetValue(inFlight)),
                HeartbeatInterval = parse.GetValue(heartbeat.Period),
                Liveness = parse.GetValue(heartbeat.Liveness),
                LoggerFactory = logging,
            });
            await client.StartAsync(cancellationToken);
            var summary = await run.ExecuteAsync(client, parse.InvocationConfiguration.Error, cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(parse.GetValue(json) ? summary.ToJson() : summary.ToText());
            return summary.Ok == summary.Requests ? 0 : 1;
        });
        return command;
    }

    /// <summary>One load run.</summary>
    private sealed record LoadRun(string Service, JsonNode? Data, int Requests, int InFlight, TimeSpan Duration, RequestOptions Options)
    {
        public async Task<LoadSummary> ExecuteAsync(Client client, TextWriter progress, CancellationToken cancellationToken)
        {
            var latencies = new ConcurrentQueue<double>(); // of the successful requests, in milliseconds
            var failed = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            int ok = 0, timeouts = 0, done = 0, claimed = 0, inFlight = 0;
            var clock = Stopwatch.StartNew();
            using var report = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var lastDone = 0;
            var reporting = Task.Run(async () =>
            {
                try
                {
                    while (await report.WaitForNextTickAsync(cancellationToken))
                    {
                        var now = Volatile.Read(ref done);
                        await progress.WriteLineAsync($"{clock.Elapsed.TotalSeconds,5:0}s  done {now:N0}/{Requests:N0}  in flight {Volatile.Read(ref inFlight)}  {now - lastDone:N0} req/s  errors {failed.Values.Sum() + Volatile.Read(ref timeouts):N0}");
                        lastDone = now;
                    }
                }
                catch (OperationCanceledException)
                {
                    // The run ended (or Ctrl+C).
                }
            }, CancellationToken.None);

            // InFlight callers, each sending its next request when its last one ends, as an application's callers do
            // (no thread hop per request: what is measured is the library's, not this tool's).
            async Task CallerAsync()
            {
                while (!cancellationToken.IsCancellationRequested
                    && (Duration <= TimeSpan.Zero || clock.Elapsed < Duration)
                    && Interlocked.Increment(ref claimed) <= Requests)
                {
                    Interlocked.Increment(ref inFlight);
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        await client.RequestAsync<JsonElement>(Service, Data, Options, cancellationToken);
                        latencies.Enqueue(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        Interlocked.Increment(ref ok);
                    }
                    catch (PigatoTimeoutException)
                    {
                        Interlocked.Increment(ref timeouts);
                    }
                    catch (PigatoException e)
                    {
                        failed.AddOrUpdate(e.Code, 1, (_, n) => n + 1);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        failed.AddOrUpdate(PigatoErrorCodes.Cancelled, 1, (_, n) => n + 1);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                        Interlocked.Increment(ref done);
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => CallerAsync()));
            var sent = Volatile.Read(ref done);

            var elapsed = clock.Elapsed;
            report.Dispose();
            await reporting;
            var sorted = latencies.Order().ToArray();
            double Percentile(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
            return new LoadSummary(sent, ok, new SortedDictionary<string, int>(failed, StringComparer.Ordinal), timeouts, elapsed.TotalSeconds, sent / elapsed.TotalSeconds, Percentile(0.5), Percentile(0.99), sorted.LastOrDefault());
        }
    }

    /// <summary>What a load run measured.</summary>
    private sealed record LoadSummary(int Requests, int Ok, SortedDictionary<string, int> Failed, int Timeouts, double Seconds, double Rps, double P50Ms, double P99Ms, double MaxMs)
    {
        public string ToJson() => JsonSerializer.Serialize(new JsonObject
        {
            ["requests"] = Requests,
            ["ok"] = Ok,
            ["failed"] = new JsonObject(Failed.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
            ["timeouts"] = Timeouts,
            ["seconds"] = Math.Round(Seconds, 3),
            ["rps"] = Math.Round(Rps, 1),
            ["p50_ms"] = Math.Round(P50Ms, 3),
            ["p99_ms"] = Math.Round(P99Ms, 3),
            ["max_ms"] = Math.Round(MaxMs, 3),
        });

        public string ToText() => string.Join(Environment.NewLine,
            $"requests  {Requests:N0} in {Seconds:0.00} s: {Rps:N0} req/s",
            $"ok        {Ok:N0}",
            $"failed    {(Failed.Count == 0 ? "0" : string.Join(", ", Failed.Select(f => $"{f.Key} {f.Value:N0}")))}",
            $"timeouts  {Timeouts:N0}",
            $"latency   p50 {P50Ms:0.000} ms, p99 {P99Ms:0.000} ms, max {MaxMs:0.000} ms");
    }
}
