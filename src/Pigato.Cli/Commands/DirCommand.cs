using System.CommandLine;
using System.Globalization;

namespace Pigato.Cli.Commands;

/// <summary>
/// <c>pigato dir [service]</c>: asks <c>$dir</c> which workers offer which services and prints a table; with
/// <c>--stats</c>, asks <c>$stats</c> for each worker's service statistics instead.
/// </summary>
internal static class DirCommand
{
    public static Command Create()
    {
        var service = new Argument<string?>("service") { Description = "Only this service.", Arity = ArgumentArity.ZeroOrOne };
        var broker = Cli.BrokerOption();
        var curve = Cli.CurveServerOption();
        var credentialOptions = Cli.CredentialOptions();
        var timeout = Cli.DurationOption("--timeout", "Time to wait for the directory", TimeSpan.FromSeconds(10));
        var stats = new Option<bool>("--stats") { Description = "Show each worker's statistics (requests, errors, processing time, last error) from the broker's $stats service." };

        var command = new Command("dir", "List services and their workers (asks the $dir service).") { service, broker, timeout, stats, curve, credentialOptions.Principal, credentialOptions.TokenFile };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!Cli.TryCurveServerKey(parse, curve, out var curveKey) || !Cli.TryCredential(parse, credentialOptions, out var credential))
            {
                return 1;
            }

            var output = parse.InvocationConfiguration.Output;
            var endpoints = parse.GetValue(broker)!;
            var name = parse.GetValue(service);
            var options = new RequestOptions { Timeout = parse.GetValue(timeout) };
            if (parse.GetValue(stats))
            {
                return await WriteStatsAsync(parse, endpoints, name, options, new ClientOptions { CurveServerKey = curveKey, Credential = credential }, cancellationToken);
            }

            // Each broker has its own directory (the workers connected to it): ask every one.
            var maps = new List<Dictionary<string, string[]>>();
            foreach (var endpoint in endpoints)
            {
                await using var client = new Client(new ClientOptions { Endpoint = endpoint, CurveServerKey = curveKey, Credential = credential });
                await client.StartAsync(cancellationToken);
                try
                {
                    maps.Add(name is null
                        ? await client.RequestAsync<Dictionary<string, string[]>>(DirectoryService.ServiceName, null, options, cancellationToken) ?? []
                        : new() { [name] = await client.RequestAsync<string[]>(DirectoryService.ServiceName, name, options, cancellationToken) ?? [] });
                }
                catch (PigatoException e)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"error: no directory from {endpoint} ({e.Code}): is a broker with $dir running there?");
                    return 1;
                }
            }

            if (endpoints.Length == 1)
            {
                await WriteTableAsync(output, endpoints, maps, id => id);
            }
            else
            {
                await WriteTableAsync(output, endpoints, maps, Instance);
            }
            return 0;
        });
        return command;
    }

    /// <summary>One row per worker and broker: what <c>$stats</c> answers, as a table.</summary>
    private static async Task<int> WriteStatsAsync(ParseResult parse, string[] endpoints, string? name, RequestOptions options, ClientOptions clientOptions, CancellationToken cancellationToken)
    {
        var rows = new List<(int Broker, WorkerStatistics Worker)>();
        for (var b = 0; b < endpoints.Length; b++)
        {
            await using var client = new Client(clientOptions with { Endpoint = endpoints[b] });
            await client.StartAsync(cancellationToken);
            try
            {
                var workers = name is null
                    ? (await client.RequestAsync<Dictionary<string, WorkerStatistics[]>>(Broker.StatsServiceName, null, options, cancellationToken) ?? []).Values.SelectMany(w => w)
                    : await client.RequestAsync<WorkerStatistics[]>(Broker.StatsServiceName, name, options, cancellationToken) ?? [];
                rows.AddRange(workers.Select(w => (b + 1, w)));
            }
            catch (PigatoException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: no statistics from {endpoints[b]} ({e.Code}): is a Pigato for .NET broker running there?");
                return 1;
            }
        }

        var output = parse.InvocationConfiguration.Output;
        var several = endpoints.Length > 1;
        for (var b = 0; several && b < endpoints.Length; b++)
        {
            await output.WriteLineAsync($"broker {b + 1}: {endpoints[b]}");
        }

        string[] header = [.. several ? ["BROKER"] : Array.Empty<string>(), "SERVICE", "WORKER", "REQUESTS", "SERVED", "ERRORS", "IN FLIGHT", "AVG MS", "P99 MS", "LAST ERROR"];
        var table = rows.OrderBy(r => r.Worker.Service, StringComparer.Ordinal).ThenBy(r => r.Worker.Id, StringComparer.Ordinal).ThenBy(r => r.Broker)
            .Select(r => (string[])[.. several ? [r.Broker.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(), r.Worker.Service, r.Worker.Id,
                Number(r.Worker.Requests), Number(r.Worker.Served), Number(r.Worker.Errors),
                $"{r.Worker.InFlight}/{(r.Worker.Concurrency < 0 ? "-" : r.Worker.Concurrency.ToString(CultureInfo.InvariantCulture))}",
                r.Worker.AverageMs.ToString("0.###", CultureInfo.InvariantCulture), r.Worker.P99Ms.ToString("0.###", CultureInfo.InvariantCulture), r.Worker.LastError ?? ""])
            .ToList();
        var widths = header.Select((h, i) => table.Select(r => r[i].Length).Append(h.Length).Max() + 2).ToArray();
        foreach (var line in table.Prepend(header))
        {
            await output.WriteLineAsync(string.Concat(line.Select((cell, i) => i == line.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }

        if (table.Count == 0)
        {
            await output.WriteLineAsync(name is null ? "(no workers)" : $"(no workers for {name})");
        }

        return 0;
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>One worker's entry in a <c>$stats</c> answer.</summary>
    private sealed record WorkerStatistics(string Id, string Service, long Requests, long Served, long Errors, long Rejected, int InFlight, int Concurrency, double AverageMs, double P99Ms, string? LastError);

    /// <summary>
    /// A worker's ids are <c>prefix-uuid</c>, one uuid per connection: with several brokers, the prefix names the worker
    /// (the same on every broker). With one broker the whole id is shown, as it is what <c>workerId</c> takes.
    /// </summary>
    private static string Instance(string id) =>
        id.Length > 37 && id[^37] == '-' && Guid.TryParse(id.AsSpan(id.Length - 36), out _) ? id[..^37] : id;

    /// <summary>
    /// One broker: SERVICE and WORKER. Several: the union, and for each worker the brokers it is registered with
    /// ("all", or their numbers), so that a worker missing from a broker shows.
    /// </summary>
    private static async Task WriteTableAsync(TextWriter output, string[] endpoints, List<Dictionary<string, string[]>> maps, Func<string, string> name)
    {
        var union = new SortedDictionary<string, SortedDictionary<string, List<int>>>(StringComparer.Ordinal);
        for (var b = 0; b < maps.Count; b++)
        {
            foreach (var (svc, workers) in maps[b])
            {
                if (!union.TryGetValue(svc, out var byWorker))
                {
                    union[svc] = byWorker = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
                }

                foreach (var worker in workers.Select(name))
                {
                    if (!byWorker.TryGetValue(worker, out var on))
                    {
                        byWorker[worker] = on = [];
                    }

                    on.Add(b + 1);
                }
            }
        }

        var several = endpoints.Length > 1;
        if (several)
        {
            for (var b = 0; b < endpoints.Length; b++)
            {
                await output.WriteLineAsync($"broker {b + 1}: {endpoints[b]}");
            }
        }

        var width = Math.Max("SERVICE".Length, union.Keys.DefaultIfEmpty("").Max(k => k.Length)) + 2;
        var workerWidth = Math.Max("WORKER".Length, union.Values.SelectMany(w => w.Keys).DefaultIfEmpty("(none)").Max(k => k.Length)) + 2;
        await output.WriteLineAsync("SERVICE".PadRight(width) + (several ? "WORKER".PadRight(workerWidth) + "BROKERS" : "WORKER"));
        foreach (var (svc, byWorker) in union)
        {
            if (byWorker.Count == 0)
            {
                await output.WriteLineAsync(svc.PadRight(width) + "(none)");
            }

            foreach (var (worker, on) in byWorker)
            {
                var brokers = on.Count == endpoints.Length ? "all" : string.Join(",", on) + $" (missing from {string.Join(",", Enumerable.Range(1, endpoints.Length).Except(on))})";
                await output.WriteLineAsync(svc.PadRight(width) + (several ? worker.PadRight(workerWidth) + brokers : worker));
            }
        }
    }
}
